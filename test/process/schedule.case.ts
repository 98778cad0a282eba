/**
 * Process suite, a scheduled rule in real time (`* * * * *`, the finest cron allows, so this case takes a
 * few minutes): a tick runs the pipeline at the branch head's exact SHA (resolved through the API) and
 * reports on that commit; the next tick, while the first run still runs, is skipped with a logged reason;
 * after the server was down across two ticks, start-up runs once — at the head the branch has by then.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { FULL_NAME, withScenario } from "./scenario.ts";

const config = (scratch: string) => `version: 1
pipelines:
  reconcile:
    environment: production
    steps:
      - name: Apply
        run: |
          echo "$DEPLOYBOT_EVENT $DEPLOYBOT_SHA $DEPLOYBOT_BRANCH $(cat state.txt)" >> ${JSON.stringify(path.join(scratch, "ticks.log"))}
          for i in $(seq 1 900); do [ -e ${JSON.stringify(path.join(scratch, "release"))} ] && exit 0; sleep 0.2; done
          exit 1
rules:
  - name: reconcile production
    repos: [${FULL_NAME}]
    on:
      schedule:
        - cron: '* * * * *'
          branch: main
    run: [reconcile]
`;

const CONTEXT = "deploy-bot/reconcile";
const MINUTE = 60_000;

export async function scheduledTicks(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const ticksLog = path.join(s.scratch, "ticks.log");
    const ticks = async () =>
      existsSync(ticksLog) ? (await readFile(ticksLog, "utf8")).trim().split("\n") : [];
    const sha1 = await s.work.commit({ "state.txt": "v1" });
    await s.work.push("main");
    s.github.repositories.setBranch(FULL_NAME, "main", sha1);

    // 1. The next minute's tick runs at the branch head, with DEPLOYBOT_EVENT=schedule, and reports on it.
    await waitFor("the first tick's run", async () => (await ticks()).length === 1, 2 * MINUTE);
    expect(await ticks()).toEqual([`schedule ${sha1} main v1`]);
    await waitFor("a pending status on the head commit", () =>
      s.github.statuses({ sha: sha1 }).some((c) => c.context === CONTEXT && c.state === "pending"),
    );

    // 2. The tick after it, while that run still runs, is skipped and says why.
    await waitFor(
      "the second tick to be skipped",
      () => s.bot.output().includes('"reason":"tick skipped: reconcile is still running"'),
      MINUTE + 30_000,
    );
    await writeFile(path.join(s.scratch, "release"), "");
    const final = await s.finalStatuses(sha1, [CONTEXT]);
    const first = final.get(CONTEXT) ?? [];
    expect(first.at(-1)).toMatchObject({ state: "success" });
    expect(new Set(first.map((c) => c.target_url)).size).toBe(1);
    expect(await ticks()).toHaveLength(1);

    // 3. Down across two ticks while the branch moves on; start-up runs once, at the new head.
    await s.bot.stop();
    const stoppedAt = Date.now();
    const sha2 = await s.work.commit({ "state.txt": "v2" });
    await s.work.push("main");
    s.github.repositories.setBranch(FULL_NAME, "main", sha2);
    const secondBoundary = (Math.floor(stoppedAt / MINUTE) + 2) * MINUTE;
    await new Promise((resolve) => setTimeout(resolve, secondBoundary - Date.now() + 3_000));
    await s.restart();
    const restarted = Date.now();
    const after = await s.finalStatuses(sha2, [CONTEXT], 40_000);
    expect(after.get(CONTEXT)?.at(-1)).toMatchObject({ state: "success" });
    expect(await ticks()).toEqual([`schedule ${sha1} main v1`, `schedule ${sha2} main v2`]);
    // Still before the next tick: exactly one run for the missed ones.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - restarted))));
    expect(new Set(s.github.statuses({ sha: sha2 }).map((c) => c.target_url)).size).toBe(1);
    expect(await ticks()).toHaveLength(2);
  });
}
