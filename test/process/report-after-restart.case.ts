/**
 * Process suite, durable reports: GitHub fails every status call while a run ends, the bot is `kill -9`ed before
 * it could report the end, and after a restart on the same data dir the final status arrives — from the outbox,
 * written in the same transaction as the run's end.
 */
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { withScenario } from "./scenario.ts";

const config = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo ok
rules:
  - name: test main
    on:
      push:
        branches: [main]
    run: [test]
`;

/** Kill -9 right after a run's end, while GitHub is failing: the restart delivers the final status. */
export async function reportAfterRestart(): Promise<void> {
  let failing = true;
  // The final status fails (Octokit then retries it for ~14 s in the process we are about to kill).
  const faults = ({ path, body }: { path: string; body: unknown }) =>
    failing && path.includes("/statuses/") && (body as { state?: string }).state === "success"
      ? { status: 503 }
      : undefined;
  await withScenario({ configYaml: config, faults }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.text).toBe("accepted: 1 runs queued\n");
    // The run has ended once the bot tries to send its final status (and GitHub fails it).
    await waitFor("an attempt to send the final status", () =>
      s.github.calls.some(
        (c) =>
          c.fault &&
          c.path.endsWith(`/statuses/${sha}`) &&
          (c.body as { state?: string }).state === "success",
      ),
    );
    expect((await s.bot.kill9()).signal).toBe("SIGKILL");
    expect(s.github.statuses({ sha }).map((c) => c.state)).not.toContain("success");

    failing = false;
    await s.restart();
    const statuses = await s.finalStatuses(sha, ["deploy-bot/test"], 25_000);
    expect(statuses.get("deploy-bot/test")?.at(-1)).toMatchObject({
      state: "success",
      description: expect.stringMatching(/^Passed in /),
    });
    expect(s.github.statuses({ sha }).filter((c) => c.state === "success")).toHaveLength(1);
  });
}
