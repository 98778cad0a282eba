/**
 * Status wording end to end: a step timeout reads `Timed out: <step> after <d>` (the runner words the detail,
 * the status renderer keeps it), and a runnable pipeline's first status is pending at once.
 */
import { describe, expect, it } from "vitest";
import { withHarness } from "./harness.ts";

describe("e2e: status wording", () => {
  it("first status is pending (Queued, or Running if already claimed); step timeout worded `Timed out: <step> after <d>`", async () => {
    await withHarness(
      {
        configYaml: `
version: 1
pipelines:
  quick:
    steps:
      - name: Echo
        run: echo quick
  slow:
    steps:
      - name: Sleep
        run: sleep 10
        timeout: 1s
rules:
  - name: quick
    on: { push: { branches: [main] } }
    run: [quick]
  - name: slow
    on: { push: { branches: [main] } }
    run: [slow]
`,
      },
      async (h) => {
        const sha = await h.work.commit({ "app.txt": "v1\n" });
        await h.work.push("main");
        const answer = await h.send("push", h.pushPayload(sha));
        expect(answer.status).toBe(202);
        const runs = await h.waitForRuns(answer.id, 2);
        await h.waitForFinalStatuses(runs);
        const first = (context: string) => h.github.statuses(sha).find((s) => s.context === context);
        const last = (context: string) => h.github.statuses(sha).findLast((s) => s.context === context);
        // A runnable pipeline's first status is pending "Queued", or "Running" when the worker claimed it
        // before the first report was sent: either way every expected check shows at once.
        expect(["Queued", "Running"]).toContain(first("deploy-bot/quick")?.description);
        expect(first("deploy-bot/quick")?.state).toBe("pending");
        expect.soft(last("deploy-bot/slow")?.description).toBe("Timed out: Sleep after 1s");
      },
    );
  });
});
