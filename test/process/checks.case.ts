/**
 * Process suite, check runs (`settings.checks: true`): a push gets one check run per pipeline instead of
 * commit statuses — exact head SHA, name, details URL and external id, queued → in_progress → completed — a
 * failing pipeline's check run carries the masked log tail, the deploy chained behind it is `skipped`, and a
 * waiting manual deploy is `action_required` with a Deploy button.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import type { FakeCheckRun } from "./fake-checks.ts";
import { APP_ID, FULL_NAME, type Scenario, withScenario } from "./scenario.ts";

const TEST_TOKEN = "tok-c4ec4ec4ec4e";

const config = (scratch: string) => `version: 1
settings:
  checks: true
pipelines:
  test:
    secrets: [TEST_TOKEN]
    steps:
      - name: Install
        run: echo installing
      - name: Unit tests
        run: echo "using $TEST_TOKEN" && if [ -e src/broken.txt ]; then echo "1 test failed"; exit 3; fi
  deploy:
    steps:
      - name: Deploy
        run: echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "deployed.txt"))}
  deploy-production:
    environment: production
    manual: true
    steps:
      - name: Deploy
        run: echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "production.txt"))}
rules:
  - name: release main
    on:
      push:
        branches: [main]
    run: [test, deploy, deploy-production]
`;

const NAMES = ["deploy-bot/test", "deploy-bot/deploy", "deploy-bot/deploy-production"];

/** The newest check run of each name at `sha`, once all three are completed. */
async function completedCheckRuns(s: Scenario, sha: string): Promise<Map<string, FakeCheckRun>> {
  return waitFor(
    `three completed check runs at ${sha.slice(0, 7)}`,
    () => {
      const newest = new Map<string, FakeCheckRun>();
      for (const run of s.github.checkRuns({ repo: FULL_NAME, sha }))
        newest.set(String(run.current.name), run);
      const all = NAMES.map((name) => newest.get(name));
      return all.every((run) => run?.current.status === "completed") ? newest : undefined;
    },
    45_000,
  );
}

export async function checkRunsInsteadOfStatuses(): Promise<void> {
  await withScenario({ configYaml: config, env: { TEST_TOKEN } }, async (s) => {
    // 1. A good commit: test and deploy pass, the manual production deploy waits with a Deploy button.
    const good = await s.work.commit({ "src/app.txt": "good" });
    await s.work.push("main");
    expect((await s.bot.send("push", s.pushPayload(good))).text).toBe("accepted: 3 runs queued\n");
    const passed = await completedCheckRuns(s, good);
    for (const name of NAMES) {
      const run = passed.get(name)!;
      expect(run.head_sha).toBe(good);
      expect(run.app_id).toBe(Number(APP_ID));
      expect(run.current.details_url).toBe(`${s.bot.url}/runs/${run.current.external_id}`);
      // The run page behind it is the run the check run names.
      const page = await s.bot.get(new URL(String(run.current.details_url)).pathname);
      expect(page.status).toBe(200);
    }
    const test = passed.get("deploy-bot/test")!;
    expect(test.current).toMatchObject({
      conclusion: "success",
      output: { title: expect.stringMatching(/^Passed in /) },
    });
    // Created queued (or already in progress: reports coalesce), then completed: a handful of writes, in order.
    expect(test.writes[0]).toMatchObject({ head_sha: good, external_id: test.current.external_id });
    const order = ["queued", "in_progress", "completed"];
    const states = test.writes.map((w) => order.indexOf(String(w.status)));
    expect(states).toEqual([...states].sort());
    expect(states.at(-1)).toBe(2);
    expect(states[0]).toBeGreaterThanOrEqual(0);
    expect(test.writes.length).toBeLessThanOrEqual(5);
    expect(test.current.started_at).toEqual(expect.any(String));
    expect(String((test.current.output as { summary: string }).summary)).toContain(
      "| 2 | Unit tests | ✅ passed |",
    );
    expect(passed.get("deploy-bot/deploy")!.current.conclusion).toBe("success");
    const production = passed.get("deploy-bot/deploy-production")!;
    expect(production.current).toMatchObject({
      conclusion: "action_required",
      output: { title: "Waiting for /deploy-bot deploy production" },
      actions: [{ identifier: "deploy", label: "Deploy", description: "Deploy to production" }],
    });
    expect(existsSync(path.join(s.scratch, "production.txt"))).toBe(false);

    // 2. A broken commit: the test's check run fails with the masked log tail, the deploy is skipped.
    const broken = await s.work.commit({ "src/broken.txt": "yes" });
    await s.work.push("main");
    await s.bot.send("push", s.pushPayload(broken, good));
    const failed = await completedCheckRuns(s, broken);
    const failing = failed.get("deploy-bot/test")!.current;
    expect(failing).toMatchObject({
      conclusion: "failure",
      output: { title: "Failed: Unit tests exited with 3" },
    });
    // The log as the run page shows it (each line with its time since the step started), secrets masked.
    expect((failing.output as { text: string }).text).toMatch(
      /^Last 2 lines of `Unit tests` \(secrets masked\):\n\n```text\n\+[\d.]+s using \*\*\*\n\+[\d.]+s 1 test failed\n```\n$/,
    );
    expect(failed.get("deploy-bot/deploy")!.current).toMatchObject({
      conclusion: "skipped",
      output: { title: "Skipped: test failed" },
    });
    expect(failed.get("deploy-bot/deploy-production")!.current.conclusion).toBe("skipped");

    // No commit statuses at all, and the secret never reached GitHub.
    expect(s.github.statuses({ repo: FULL_NAME })).toEqual([]);
    expect(JSON.stringify(s.github.calls)).not.toContain(TEST_TOKEN);
    // Only the deploy of the good commit ran.
    expect(await readFile(path.join(s.scratch, "deployed.txt"), "utf8")).toBe(`${good}\n`);
  });
}
