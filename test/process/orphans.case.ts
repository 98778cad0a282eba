/**
 * Process suite, orphaned steps: `kill -9` of the bot's process group while a step runs (a step that left a
 * child in the background), then a restart. With the step sandbox the step's processes die with the bot
 * (parent-death signal on `unshare --kill-child`); without it, the restart kills what is left, after checking
 * it is the interrupted run's.
 */

import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { withScenario } from "./scenario.ts";

const config = (scratch: string) => `version: 1
pipelines:
  deploy:
    environment: production
    steps:
      - name: Slow deploy
        run: sleep 300 & touch ${JSON.stringify(path.join(scratch, "started"))} && sleep 301; echo done
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [deploy]
`;

async function orphansAfterKill9(stepSandbox: "auto" | "off"): Promise<void> {
  await withScenario({ configYaml: config, env: { STEP_SANDBOX: stepSandbox } }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.text).toBe("accepted: 1 runs queued\n");
    await waitFor("the slow deploy to start", () => existsSync(path.join(s.scratch, "started")));
    const marker = `DEPLOYBOT_DELIVERY_ID=${answer.id}`;
    expect((await processesWith(marker)).length).toBeGreaterThanOrEqual(2);

    await s.bot.kill9();
    const afterKill = await processesWith(marker);
    if (stepSandbox === "auto") {
      // The sandbox's leader had a parent-death signal: the whole PID namespace went with the bot.
      await waitFor(
        "the step's processes to die with the bot",
        async () => (await processesWith(marker)).length === 0,
        5000,
      );
    } else {
      // Without the sandbox only the group leader dies with the bot; the background sleep lives on.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(
        (await processesWith(marker)).length,
        `left after kill -9: ${afterKill.join(", ")}`,
      ).toBeGreaterThan(0);
    }

    await s.restart();
    await waitFor(
      "the restart to kill the step's leftovers",
      async () => (await processesWith(marker)).length === 0,
      15_000,
    );
    const statuses = await s.finalStatuses(sha, ["deploy-bot/deploy"], 25_000);
    expect(statuses.get("deploy-bot/deploy")?.at(-1)).toMatchObject({
      state: "error",
      description: "Interrupted by a restart",
    });
    if (stepSandbox === "off")
      expect(s.bot.output()).toContain("killed the processes a step left running when the bot died");
  });
}

export const orphansDieWithTheSandbox = () => orphansAfterKill9("auto");
export const orphansKilledAtRestart = () => orphansAfterKill9("off");

/** Live pids whose environment holds `needle` (Linux /proc). */
async function processesWith(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3))) continue;
      const environ = await readFile(`/proc/${entry}/environ`, "latin1");
      if (environ.split("\0").includes(needle)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}
