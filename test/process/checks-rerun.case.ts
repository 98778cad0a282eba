/**
 * Process suite, requests from the Checks tab (`settings.checks: true`), sent as GitHub sends them:
 * - forged ones run nothing: another App's check run, an `external_id` that is no run of the repository (made
 *   up, a real run of this repository named from another repository, a real run named at another commit),
 *   and none asks GitHub anything; a read-only user's Re-run is refused;
 * - "Re-run" on the failed test's check run runs it again at the same SHA — a new check run (new id, new
 *   external id) — with the deploy its failure skipped (chains hold); the old check runs stay as they were; a
 *   redelivery of the click answers duplicate and runs nothing more;
 * - the Deploy button of the waiting manual deploy: a reader's click is refused, a writer's starts that very run
 *   (a new check run with its external id, the action_required one kept as history) and deploys that SHA;
 * - "Re-run all checks" runs every pipeline of the commit again, a new check run per pipeline.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import type { FakeCheckRun } from "./fake-checks.ts";
import { APP_ID, FULL_NAME, INSTALLATION_ID, OWNER, type Scenario, withScenario } from "./scenario.ts";

/** The test step fails until the test creates this file in the scratch dir. */
const MARKER = "tests-fixed";

const config = (scratch: string) => `version: 1
settings:
  checks: true
pipelines:
  test:
    steps:
      - name: Unit tests
        run: if [ -e ${JSON.stringify(path.join(scratch, MARKER))} ]; then echo "all passed"; else echo "1 test failed"; exit 3; fi
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

const TEST = "deploy-bot/test";
const DEPLOY = "deploy-bot/deploy";
const PRODUCTION = "deploy-bot/deploy-production";
const NAMES = [TEST, DEPLOY, PRODUCTION];

type Payload = Record<string, unknown>;

/** The `repository` of a delivery about `FULL_NAME` (or, `name` given, another repository of the owner). */
function repository(s: Scenario, sha: string, name?: string): Payload {
  const repo = structuredClone(s.pushPayload(sha).repository) as Payload;
  if (name !== undefined) {
    repo.name = name;
    repo.full_name = `${OWNER}/${name}`;
  }
  return repo;
}

/** A `check_run` delivery about the fake's check run `run`, as GitHub sends it; `overrides` forge fields. */
function checkRunPayload(
  s: Scenario,
  action: "rerequested" | "requested_action",
  run: FakeCheckRun,
  options: {
    login: string;
    identifier?: string;
    appId?: number;
    externalId?: string;
    sha?: string;
    repoName?: string;
  },
): Payload {
  const sha = options.sha ?? run.head_sha;
  return {
    action,
    check_run: {
      id: run.id,
      name: run.current.name,
      head_sha: sha,
      external_id: options.externalId ?? run.current.external_id,
      details_url: run.current.details_url,
      status: run.current.status,
      conclusion: run.current.conclusion ?? null,
      app: { id: options.appId ?? run.app_id, slug: "deploy-bot" },
      pull_requests: [],
      check_suite: { id: 1, head_sha: sha },
    },
    ...(options.identifier ? { requested_action: { identifier: options.identifier } } : {}),
    repository: repository(s, sha, options.repoName),
    installation: { id: INSTALLATION_ID },
    sender: { login: options.login, type: "User" },
  };
}

function checkSuitePayload(s: Scenario, sha: string, login: string): Payload {
  return {
    action: "rerequested",
    check_suite: {
      id: 1,
      head_sha: sha,
      head_branch: "main",
      status: "completed",
      app: { id: Number(APP_ID), slug: "deploy-bot" },
      pull_requests: [],
    },
    repository: repository(s, sha),
    installation: { id: INSTALLATION_ID },
    sender: { login, type: "User" },
  };
}

const lines = async (file: string) =>
  (await readFile(file, "utf8").catch(() => "")).split("\n").filter((line) => line !== "");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every check run at `sha` of `name`, oldest first. */
const named = (s: Scenario, sha: string, name: string) =>
  s.github.checkRuns({ repo: FULL_NAME, sha }).filter((run) => run.current.name === name);

/** Waits until `count` check runs of each name exist at `sha` and the newest of each is completed. */
async function completed(
  s: Scenario,
  sha: string,
  count: number,
  deadlineMs = 45_000,
): Promise<Map<string, FakeCheckRun>> {
  return waitFor(
    `${count} check runs of each pipeline at ${sha.slice(0, 7)}, the newest completed`,
    () => {
      const newest = new Map<string, FakeCheckRun>();
      for (const name of NAMES) {
        const runs = named(s, sha, name);
        const last = runs.at(-1);
        if (runs.length !== count || last?.current.status !== "completed") return undefined;
        newest.set(name, last);
      }
      return newest;
    },
    deadlineMs,
  );
}

/** A deep copy of every check run as it is now, to show later that none changed. */
const snapshot = (runs: readonly FakeCheckRun[]) => structuredClone(runs.map((r) => ({ ...r })));

/** Sends a request that must be turned away: answered, not a 5xx (the caller checks that nothing ran). */
async function refusedOrIgnored(s: Scenario, event: string, payload: Payload, what: string): Promise<void> {
  const answer = await s.bot.send(event, payload);
  expect(answer.status, `${what}: ${answer.text}`).toBeLessThan(500);
  expect(answer.status, `${what}: ${answer.text}`).toBeGreaterThanOrEqual(200);
}

export async function checksTabRequests(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const deployed = path.join(s.scratch, "deployed.txt");
    const production = path.join(s.scratch, "production.txt");

    // 1. A push whose test fails: deploy and deploy-production are skipped.
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    expect((await s.bot.send("push", s.pushPayload(sha))).text).toBe("accepted: 3 runs queued\n");
    const first = await completed(s, sha, 1);
    const failedTest = first.get(TEST)!;
    expect(failedTest.current.conclusion).toBe("failure");
    expect(first.get(DEPLOY)!.current.conclusion).toBe("skipped");
    expect(first.get(PRODUCTION)!.current.conclusion).toBe("skipped");
    // Let the reports settle (nothing is written to these check runs any more).
    await sleep(1000);
    const before = snapshot(s.github.checkRuns());
    expect(before).toHaveLength(3);

    // 2. Forged requests, and a reader's Re-run, run nothing; the forged ones ask GitHub nothing.
    s.github.setPermission("reader", "read");
    s.github.setPermission("writer", "write");
    const callsBefore = s.github.calls.length;
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, { login: "writer", appId: Number(APP_ID) + 1 }),
      "another App's check run",
    );
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, {
        login: "writer",
        externalId: "AAAAAAAAAAAAAAAAAAAAAA",
      }),
      "a made-up external_id",
    );
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, { login: "writer", externalId: "../../etc/passwd" }),
      "an external_id that is no run id",
    );
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, { login: "writer", repoName: "Other-Repo" }),
      "a run of Hello-World named from Other-Repo",
    );
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, { login: "writer", sha: "b".repeat(40) }),
      "a run named at another commit",
    );
    await refusedOrIgnored(
      s,
      "check_suite",
      { ...checkSuitePayload(s, sha, "writer"), check_suite: { id: 1, head_sha: sha, app: { id: 1 } } },
      "another App's check suite",
    );
    expect(s.github.calls.slice(callsBefore).filter((call) => call.path.includes("/collaborators/"))).toEqual(
      [],
    );
    await refusedOrIgnored(
      s,
      "check_run",
      checkRunPayload(s, "rerequested", failedTest, { login: "reader" }),
      "a reader's Re-run",
    );
    await sleep(2000);
    expect(s.github.checkRuns()).toEqual(before);
    expect(s.github.checkRuns({ repo: `${OWNER}/Other-Repo` })).toEqual([]);
    expect(existsSync(deployed)).toBe(false);

    // 3. Fix the test, then "Re-run" on its check run: test and the deploys it skipped run again at the SHA.
    await writeFile(path.join(s.scratch, MARKER), "yes\n");
    const click = checkRunPayload(s, "rerequested", failedTest, { login: "writer" });
    const rerun = await s.bot.send("check_run", click);
    expect(rerun.status, rerun.text).toBe(202);
    // test and deploy pass; deploy-production waits for its button again.
    const second = await completed(s, sha, 2);
    const newTest = second.get(TEST)!;
    const newDeploy = second.get(DEPLOY)!;
    const waiting = second.get(PRODUCTION)!;
    expect(newTest.current.conclusion).toBe("success");
    expect(newDeploy.current.conclusion).toBe("success");
    expect(waiting.current).toMatchObject({
      conclusion: "action_required",
      actions: [{ identifier: "deploy", label: "Deploy" }],
    });
    for (const [name, run] of second) {
      const old = first.get(name)!;
      expect(run.id).not.toBe(old.id);
      expect(run.head_sha).toBe(sha);
      expect(run.app_id).toBe(Number(APP_ID));
      expect(run.current.external_id).toEqual(expect.any(String));
      expect(run.current.external_id).not.toBe(old.current.external_id);
      expect(run.current.details_url).toBe(`${s.bot.url}/runs/${run.current.external_id}`);
      expect((await s.bot.get(`/runs/${run.current.external_id}`)).status).toBe(200);
    }
    // The deploy ran, at the same commit.
    expect(await lines(deployed)).toEqual([sha]);
    expect(existsSync(production)).toBe(false);
    // The old check runs are history: unchanged.
    const olds = s.github.checkRuns().filter((run) => before.some((b) => b.id === run.id));
    expect(olds).toEqual(before);

    // GitHub redelivers the click: duplicate, nothing more runs.
    await sleep(1000);
    const afterRerun = snapshot(s.github.checkRuns());
    const again = await s.bot.send("check_run", click, rerun.id);
    expect(again.status, again.text).toBe(200);
    expect(again.text).toContain("duplicate");
    await sleep(2000);
    expect(s.github.checkRuns()).toEqual(afterRerun);
    expect(await lines(deployed)).toEqual([sha]);

    // 4. The Deploy button of the waiting production deploy: a reader is refused, nothing runs.
    const readerClick = await s.bot.send(
      "check_run",
      checkRunPayload(s, "requested_action", waiting, { login: "reader", identifier: "deploy" }),
    );
    expect(readerClick.status, readerClick.text).toBe(202);
    await sleep(2000);
    expect(s.github.checkRuns()).toEqual(afterRerun);
    expect(named(s, sha, PRODUCTION).at(-1)?.current.conclusion).toBe("action_required");
    expect(existsSync(production)).toBe(false);

    // A writer's click deploys that commit.
    const writerClick = await s.bot.send(
      "check_run",
      checkRunPayload(s, "requested_action", waiting, { login: "writer", identifier: "deploy" }),
    );
    expect(writerClick.status, writerClick.text).toBe(202);
    const deployedRun = await waitFor(
      "deploy-production's check run to end success",
      () => {
        const last = named(s, sha, PRODUCTION).at(-1);
        return last?.current.status === "completed" && last.current.conclusion !== "action_required"
          ? last
          : undefined;
      },
      45_000,
    );
    expect(deployedRun.current.conclusion).toBe("success");
    expect(deployedRun.head_sha).toBe(sha);
    // The waiting run itself started (its external id), not a second run beside it; as a completed check run
    // cannot show it running again, it has a new check run, and the action_required one stays as history.
    expect(deployedRun.current.external_id).toBe(waiting.current.external_id);
    expect(deployedRun.id).not.toBe(waiting.id);
    expect(named(s, sha, PRODUCTION)).toHaveLength(3);
    expect(afterRerun.find((run) => run.id === waiting.id)).toEqual(
      s.github.checkRuns().find((run) => run.id === waiting.id),
    );
    await waitFor("the production deploy's file", async () => (await lines(production)).length > 0, 10_000);
    expect(await lines(production)).toEqual([sha]);
    // test and deploy did not run again for it.
    expect(named(s, sha, TEST)).toHaveLength(2);
    expect(await lines(deployed)).toEqual([sha]);

    // 5. "Re-run all checks": a new check run per pipeline at the commit.
    await sleep(1000);
    const counts = new Map(NAMES.map((name) => [name, named(s, sha, name).length]));
    const suite = await s.bot.send("check_suite", checkSuitePayload(s, sha, "writer"));
    expect(suite.status, suite.text).toBe(202);
    const third = await waitFor(
      "a new completed check run of each pipeline",
      () => {
        const newest = new Map<string, FakeCheckRun>();
        for (const name of NAMES) {
          const runs = named(s, sha, name);
          const last = runs.at(-1);
          if (runs.length !== (counts.get(name) ?? 0) + 1 || last?.current.status !== "completed")
            return undefined;
          newest.set(name, last);
        }
        return newest;
      },
      45_000,
    );
    expect(third.get(TEST)!.current.conclusion).toBe("success");
    expect(third.get(DEPLOY)!.current.conclusion).toBe("success");
    // The manual deploy waits for its button again.
    expect(third.get(PRODUCTION)!.current.conclusion).toBe("action_required");
    for (const run of third.values()) expect(run.head_sha).toBe(sha);
    expect(await lines(deployed)).toEqual([sha, sha]);
    expect(await lines(production)).toEqual([sha]);
    expect(s.github.statuses({ repo: FULL_NAME })).toEqual([]);
  });
}

const forkConfig = (scratch: string) => `version: 1
settings:
  checks: true
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "tested.txt"))}
rules:
  - name: test pull requests
    on:
      pull_request:
        branches: [main]
    run: [test]
`;

/**
 * A fork's pull request: its check run is action_required with an Approve button and nothing runs; a reader's
 * click is refused; a writer's click runs exactly that commit (a new check run, the same run id) to success.
 */
export async function approveButtonOnFork(): Promise<void> {
  await withScenario({ configYaml: forkConfig }, async (s) => {
    const tested = path.join(s.scratch, "tested.txt");
    const sha = await s.commitPullRequest({ "src/feature.txt": "from a fork" });
    const payload = s.prPayload("opened", sha);
    const head = (payload.pull_request as Payload).head as Payload;
    head.repo = { ...(head.repo as Payload), id: 186853999, full_name: "octo-fork/Hello-World", fork: true };
    expect((await s.bot.send("pull_request", payload)).text).toBe("accepted: 1 runs queued\n");
    const waiting = await waitFor(
      "the fork's check run awaiting approval",
      () => named(s, sha, TEST).find((run) => run.current.conclusion === "action_required"),
      30_000,
    );
    expect(waiting.current.actions).toEqual([
      expect.objectContaining({ identifier: "approve", label: "Approve" }),
    ]);
    expect(existsSync(tested)).toBe(false);

    s.github.setPermission("reader", "read");
    s.github.setPermission("writer", "write");
    const refused = await s.bot.send(
      "check_run",
      checkRunPayload(s, "requested_action", waiting, { login: "reader", identifier: "approve" }),
    );
    expect(refused.status, refused.text).toBe(202);
    await sleep(1500);
    expect(named(s, sha, TEST)).toHaveLength(1);
    expect(existsSync(tested)).toBe(false);

    const approved = await s.bot.send(
      "check_run",
      checkRunPayload(s, "requested_action", waiting, { login: "writer", identifier: "approve" }),
    );
    expect(approved.status, approved.text).toBe(202);
    const passed = await waitFor(
      "the approved run's check run to succeed",
      () => named(s, sha, TEST).find((run) => run.current.conclusion === "success"),
      45_000,
    );
    expect(passed.current.external_id).toBe(waiting.current.external_id);
    expect(passed.head_sha).toBe(sha);
    expect(await lines(tested)).toEqual([sha]);
  });
}
