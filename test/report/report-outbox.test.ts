/**
 * Reports through the outbox on a real store (PGlite, and PostgreSQL when reachable): the store enqueues in the
 * transaction of each change, the drainer hands messages to the reporter, GitHub is nock. A long GitHub outage
 * and a crash between a run's end and its report both end with the final status delivered.
 */
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OutboxDrainer, startOutboxDrainer } from "../../src/outbox/drain-outbox.ts";
import { enqueueOutbox } from "../../src/outbox/outbox.ts";
import { enqueueReports } from "../../src/report/enqueue-reports.ts";
import { createGitHubReporter, type GitHubReporter } from "../../src/report/github-reporter.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { sentCheckRuns } from "../../src/store/sent-check-runs.ts";
import { sentReports } from "../../src/store/sent-reports.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pullRequestEvent, pushEvent, run } from "../queue/fixtures.ts";

const API = "https://api.github.com";
const FAST = { baseMs: 5, maxMs: 20, minMs: 5 };
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

interface Opened {
  db: Database;
  store: RunStore;
  reporter: GitHubReporter;
  drainer: OutboxDrainer | undefined;
  close(): Promise<void>;
}

async function open(
  options: { dataDir: string } | { databaseUrl: string },
  drain: boolean,
  settings: { checks?: boolean } = {},
): Promise<Opened> {
  const db = await openDatabase(options);
  const store = await openRunStore(db, { onChange: enqueueReports(enqueueOutbox, settings) });
  const octokit = new ProbotOctokit({
    auth: { token: "test-token" },
    throttle: { enabled: false },
    retry: { enabled: false },
  });
  const reporter = createGitHubReporter({
    octokitFor: async () => octokit,
    runsForDelivery: (id) => store.runsForDelivery(id),
    logTail: (id, step, lines) => store.logTail(id, step, lines),
    sent: sentReports(db),
    sentCheckRuns: sentCheckRuns(db),
    statusContext: "deploy-bot",
    logger: quiet,
  });
  const drainer = drain
    ? await startOutboxDrainer(db, {
        handlers: reporter.handlers,
        pollMs: 20,
        backoff: FAST,
        exclusive: true,
      })
    : undefined;
  return {
    db,
    store,
    reporter,
    drainer,
    async close() {
      await drainer?.stop();
      await store.close();
      await db.close();
    },
  };
}

/** Status calls GitHub answered 201, as `state description`. */
function statusRecorder(path: RegExp, sent: string[]) {
  return nock(API)
    .persist()
    .post(path)
    .reply(201, async (request: Request) => {
      const body = (await request.json()) as { state: string; description: string };
      sent.push(`${body.state} ${body.description}`);
      return {};
    });
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Accepts a push with one `test` run, runs it to `passed`; returns its delivery id and SHA. */
async function runToTheEnd(store: RunStore): Promise<{ deliveryId: string; sha: string }> {
  const event = pushEvent();
  const accepted = await store.acceptDelivery(delivery(event, [run("test")]));
  const { runs } = await store.claimRuns("worker-1", 1);
  expect(runs.map((r) => r.id)).toEqual([accepted.runs[0]!.id]);
  await store.updateStep(runs[0]!.id, { index: 0, state: "running" });
  await store.updateStep(runs[0]!.id, { index: 0, state: "passed", exitCode: 0 });
  await store.finishRun(runs[0]!.id, { state: "passed", detail: "" });
  return { deliveryId: event.deliveryId, sha: event.sha };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(
    `reports through the outbox on ${mode.name}`,
    { timeout: 90_000 },
    () => {
      it("each change enqueues one message per delivery and per pull request, in its own transaction", async () => {
        const created = await mode.create();
        const app = await open(created.options, false);
        try {
          const event = pullRequestEvent({ fork: false });
          await app.store.acceptDelivery(delivery(event, [run("test"), run("lint")]));
          const { runs } = await app.store.claimRuns("worker-1", 2);
          await app.store.finishRun(runs[0]!.id, { state: "passed", detail: "" });
          const rows = await app.db.query<{ topic: string; key: string; payload: unknown; version: number }>(
            "SELECT topic, key, payload, version FROM outbox ORDER BY id",
          );
          // accepted, claimed, finished: three changes, coalesced into one message per key.
          expect(rows).toEqual([
            {
              topic: "github-status",
              key: event.deliveryId,
              payload: { deliveryId: event.deliveryId },
              version: 3,
            },
            {
              topic: "github-comment",
              key: "acme/app#7",
              payload: { repo: "acme/app", prNumber: 7 },
              version: 3,
            },
          ]);
        } finally {
          await app.close();
          await created.cleanup();
        }
      });

      it("settings.checks: the same changes report one check run, created then updated, and no status", async () => {
        const created = await mode.create();
        const app = await open(created.options, true, { checks: true });
        try {
          const writes: string[] = [];
          const record = async (request: Request) => {
            const body = (await request.json()) as { status: string; conclusion?: string };
            writes.push(`${request.method} ${body.status} ${body.conclusion ?? ""}`.trim());
            return { id: 77 };
          };
          const checks = nock(API)
            .persist()
            .post("/repos/acme/app/check-runs")
            .reply(201, record)
            .patch("/repos/acme/app/check-runs/77")
            .reply(200, record);
          const statuses = nock(API)
            .post(/\/statuses\//)
            .reply(201, {});
          await runToTheEnd(app.store);
          await waitUntil("the completed check run", () => writes.at(-1) === "PATCH completed success");
          await app.drainer?.drainOnce();
          expect(writes[0]).toMatch(/^POST (queued|in_progress|completed success)$/);
          expect(writes.filter((w) => w.startsWith("POST"))).toHaveLength(1);
          expect(statuses.isDone()).toBe(false);
          expect(checks.pendingMocks()).toEqual([]);
          expect(await app.db.query("SELECT check_run_id, completed FROM report_checks")).toEqual([
            { check_run_id: expect.anything(), completed: true },
          ]);
        } finally {
          await app.close();
          await created.cleanup();
        }
      });

      it("GitHub failing 40 times in a row (the old reporter gave up after 6): the final status arrives", async () => {
        const created = await mode.create();
        const app = await open(created.options, true);
        try {
          const sent: string[] = [];
          const failing = nock(API)
            .post(/\/statuses\//)
            .times(40)
            .reply(500, { message: "down" });
          const { deliveryId } = await runToTheEnd(app.store);
          await waitUntil("40 failed tries", () => failing.isDone());
          statusRecorder(/\/statuses\//, sent);
          app.drainer?.wake();
          await waitUntil("the final status", () => sent.length > 0);
          await app.drainer?.drainOnce();
          // Only what is true now is sent: the intermediate states were superseded while GitHub was down.
          expect(sent).toEqual([expect.stringMatching(/^success Passed in /)]);
          expect(await app.db.query("SELECT 1 FROM outbox")).toEqual([]);
          expect(await app.reporter.reportStatuses(deliveryId)).toEqual({ ok: true });
          expect(sent).toHaveLength(1);
        } finally {
          await app.close();
          await created.cleanup();
        }
      });

      it("a crash between a run's end and its report: the next start delivers the final status, once", async () => {
        const created = await mode.create();
        const sent: string[] = [];
        statusRecorder(/\/statuses\//, sent);
        const before = await open(created.options, false); // no drainer: it "died" before reporting
        const { sha } = await runToTheEnd(before.store);
        await before.close();
        expect(sent).toEqual([]);

        const after = await open(created.options, true);
        try {
          await waitUntil("the final status", () => sent.length > 0);
          await after.drainer?.drainOnce();
          expect(sent).toEqual([expect.stringMatching(/^success Passed in /)]);
          expect(sha).toMatch(/^[0-9a-f]{40}$/);
          // Retention takes what was sent along with the run.
          await after.store.pruneFinished({ olderThanDays: 30, keepRuns: 0 });
          expect(await after.db.query("SELECT run_id FROM report_statuses")).toEqual([]);
        } finally {
          await after.close();
          await created.cleanup();
        }
      });
    },
  );
}
