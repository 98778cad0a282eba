/**
 * Process suite, `kill -9` of the bot's whole process group while a step runs, then a restart on the same
 * data dir: the run ends in a final state and no commit status is left pending.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { withScenario } from "./scenario.ts";

// The slow step is in a deploy (a pipeline with an environment): after a crash it ends `interrupted` and is not
// repeated automatically (README, "Storage, workers and restarts"), so the end state is fixed.
const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo ok
  deploy:
    environment: production
    steps:
      - name: Slow deploy
        run: touch ${JSON.stringify(path.join(scratch, "started"))} && sleep 120
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

const CONTEXTS = ["deploy-bot/test", "deploy-bot/deploy"];

/** Kill -9 of the bot's process group mid-deploy, then a restart: the run ends, no status left pending. */
export async function killAndRestart(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.text).toBe("accepted: 2 runs queued\n");
    await waitFor("the slow deploy to start", () => existsSync(path.join(s.scratch, "started")));
    // Step progress is reported: the status names the running step.
    await waitFor("the deploy's Running status", () =>
      s.github
        .statuses({ sha })
        .some((c) => c.context === "deploy-bot/deploy" && c.description === "Running: Slow deploy (1/1)"),
    );

    const killed = await s.bot.kill9();
    expect(killed.signal).toBe("SIGKILL");
    // A step runs in a process group of its own, so SIGKILL of the bot's group does not reach it directly; the
    // parent-death signal and the restart end it (see orphans.case.ts). Belt and braces on a shared machine.
    const orphans = await killProcessesWith(`DEPLOYBOT_DELIVERY_ID=${answer.id}`);
    if (process.env.PROCESS_DEBUG) console.log(`killed ${orphans} orphaned step processes`);
    expect(s.github.statuses({ sha }).at(-1)?.state).toBe("pending");

    await s.restart();
    const statuses = await s.finalStatuses(sha, CONTEXTS, 25_000);
    expect(statuses.get("deploy-bot/test")?.at(-1)).toMatchObject({ state: "success" });
    const deploy = statuses.get("deploy-bot/deploy") ?? [];
    expect(deploy.at(-1)).toMatchObject({ state: "error", description: "Interrupted by a restart" });
    // The same run (same run page) went from running to interrupted: the deploy was not started again.
    expect(new Set(deploy.map((c) => c.target_url)).size).toBe(1);
    for (const context of CONTEXTS) {
      const newest = s.github
        .statuses({ sha })
        .filter((c) => c.context === context)
        .at(-1);
      expect(newest?.state, context).not.toBe("pending");
    }
    const page = await s.bot.get(new URL(deploy.at(-1)?.target_url ?? "").pathname);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Interrupted");
  });
}

/** SIGKILLs every process whose environment holds `needle` (Linux /proc); returns how many. */
async function killProcessesWith(needle: string): Promise<number> {
  let killed = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, "latin1");
      if (environ.split("\0").includes(needle)) {
        process.kill(Number(entry), "SIGKILL");
        killed += 1;
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return killed;
}
