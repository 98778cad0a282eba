import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createGitHubReporter,
  type OctokitLike,
  type ReporterDeps,
} from "../../src/report/github-reporter.ts";
import { withReliableDefaults } from "../../src/report/octokit-options.ts";
import { COMMENT_MARKER } from "../../src/report/render-comment.ts";
import { CHECK_TOPIC, COMMENT_TOPIC, STATUS_TOPIC } from "../../src/report/report-messages.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { SentCheckRun, SentCheckRuns } from "../../src/store/sent-check-runs.ts";
import type { PullRequestKey, SentComment, SentReports, SentStatus } from "../../src/store/sent-reports.ts";
import { at, prEvent, run, SHA, step, testSteps } from "./fixtures.ts";

const API = "https://api.github.com";
const STATUSES = `/repos/acme/app/statuses/${SHA}`;

interface LogEntry {
  level: string;
  obj: object;
  msg: string;
}

function recordingLogger() {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg: string) => entries.push({ level, obj, msg });
  return { entries, logger: { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") } };
}

/** A fresh client per test (token caches), Octokit's own retries off unless a test wants them. */
function plainOctokit(): OctokitLike {
  return new ProbotOctokit({
    auth: { token: "test-token" },
    throttle: { enabled: false },
    retry: { enabled: false },
  });
}

/**
 * A fake run store and a fake "what GitHub was last told" (the real ones are tested on PGlite in
 * `report-outbox.test.ts`): tests replace runs and the reporter reads them fresh, as it would from the database.
 */
function store(initial: RunRecord[]) {
  const runs = new Map(initial.map((r) => [r.id, r]));
  const statuses = new Map<string, SentStatus>();
  const comments = new Map<string, SentComment>();
  const checkRuns = new Map<string, SentCheckRun>();
  const sentChecks: SentCheckRuns = {
    async checkRunsSent(ids) {
      return new Map(ids.flatMap((id) => (checkRuns.has(id) ? [[id, checkRuns.get(id)!] as const] : [])));
    },
    async markCreating(id, replaces) {
      checkRuns.set(id, {
        checkRunId: null,
        createStarted: true,
        completed: false,
        replacedCheckRunId: replaces,
        bodySha256: null,
      });
    },
    async recordCheckRunSent(id, sent) {
      checkRuns.set(id, { ...sent, createStarted: false, replacedCheckRunId: null });
    },
  };
  const prKey = (pr: PullRequestKey) => `${pr.repo}#${pr.prNumber}`.toLowerCase();
  const sent: SentReports = {
    async statusesSent(ids) {
      return new Map(ids.flatMap((id) => (statuses.has(id) ? [[id, statuses.get(id)!] as const] : [])));
    },
    async recordStatusSent(id, status) {
      statuses.set(id, status);
    },
    async commentSent(pr) {
      return comments.get(prKey(pr));
    },
    async recordCommentSent(pr, comment) {
      comments.set(prKey(pr), comment);
    },
    async newestDeliveryOf(pr) {
      const mine = [...runs.values()].filter(
        (r) =>
          r.event.kind === "pull_request" &&
          r.event.prNumber === pr.prNumber &&
          r.event.repo.fullName.toLowerCase() === pr.repo.toLowerCase(),
      );
      return mine.sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime())[0]?.deliveryId;
    },
  };
  return {
    sent,
    sentChecks,
    checkRuns,
    statuses,
    set(record: RunRecord) {
      runs.set(record.id, record);
      return record;
    },
    get(id: string) {
      return runs.get(id)!;
    },
    async runsForDelivery(deliveryId: string) {
      return [...runs.values()].filter((r) => r.deliveryId === deliveryId);
    },
  };
}

function deps(
  s: ReturnType<typeof store>,
  logger: ReporterDeps["logger"],
  octokit: OctokitLike = plainOctokit(),
  extra: Partial<ReporterDeps> = {},
): ReporterDeps {
  return {
    octokitFor: async (id) => {
      // Recorded, not asserted here: the reporter would catch a throw as a transient failure.
      installationIds.push(id);
      return octokit;
    },
    runsForDelivery: (id) => s.runsForDelivery(id),
    logTail: async () => "",
    sent: s.sent,
    sentCheckRuns: s.sentChecks,
    statusContext: "deploy-bot",
    publicUrl: "https://bot.example.com/",
    logger,
    ...extra,
  };
}

const DELIVERED = { ok: true };

/** Records the JSON bodies of status calls in order. */
function statusRecorder(scope: nock.Scope, times: number, calls: object[]) {
  return scope
    .post(STATUSES)
    .times(times)
    .reply(201, async (request: Request) => {
      // nock 15 hands a reply function the fetch Request.
      calls.push((await request.json()) as object);
      return { id: calls.length };
    });
}

const status = (pipeline: string, state: string, description: string, id: string) => ({
  state,
  description,
  context: `deploy-bot/${pipeline}`,
  target_url: `https://bot.example.com/runs/${id}`,
});

/** Installation ids the reporter asked a client for, in this test. */
let installationIds: number[] = [];

beforeEach(() => {
  installationIds = [];
  nock.disableNetConnect();
});
afterEach(() => {
  // Every client is the event's installation's (42 in the fixtures).
  expect(installationIds.filter((id) => id !== 42)).toEqual([]);
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("GitHub reporter: statuses", () => {
  it("reports a delivery's lifecycle with a handful of status calls for 50 changes", async () => {
    const s = store([
      run({ id: "t", pipeline: "test" }),
      run({ id: "d", pipeline: "deploy", needs: ["test"], environment: "production" }),
    ]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const calls: object[] = [];
    const scope = statusRecorder(nock(API), 6, calls);
    let changes = 0;
    const changed = (r: RunRecord) => {
      changes += 1;
      s.set(r);
    };
    // The outbox coalesces a burst of changes into one message; each delivery reads the runs as they are.
    const deliver = async () => expect(await reporter.reportStatuses("delivery-1")).toEqual(DELIVERED);

    changed(s.get("t"));
    await deliver();
    for (let i = 0; i < 20; i += 1) {
      const states = (["passed", "passed", "passed"] as const).map((st, k) => (k < i / 7 ? st : "pending"));
      const running = testSteps([...states.slice(0, Math.floor(i / 7)), "running"]);
      changed({ ...s.get("t"), state: "running", startedAt: at(0), steps: running });
    }
    await deliver();
    for (let i = 0; i < 27; i += 1) changed({ ...s.get("t") }); // log lines: same description, nothing sent
    await deliver();
    s.set({
      ...s.get("d"),
      state: "running",
      startedAt: at(60),
      steps: [step(0, "Deploy", { state: "running" })],
    });
    changed({
      ...s.get("t"),
      state: "passed",
      finishedAt: at(60),
      steps: testSteps(["passed", "passed", "passed"]),
    });
    await deliver();
    changed({
      ...s.get("d"),
      state: "passed",
      finishedAt: at(75),
      steps: [step(0, "Deploy", { state: "passed" })],
    });
    await deliver();

    expect(changes).toBe(50);
    expect(calls).toEqual([
      status("test", "pending", "Queued", "t"),
      status("deploy", "pending", "Waiting for test", "d"),
      status("test", "pending", "Running: Lint (3/3)", "t"),
      status("test", "success", "Passed in 1m", "t"),
      status("deploy", "pending", "Running: Deploy (1/1)", "d"),
      status("deploy", "success", "Passed in 15s", "d"),
    ]);
    expect(scope.isDone()).toBe(true);
    expect(entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
  });

  it("sends a final status once, also when reported again after a restart (what was sent is stored)", async () => {
    const s = store([run({ id: "t", pipeline: "test" })]);
    const { logger } = recordingLogger();
    const calls: object[] = [];
    const scope = statusRecorder(nock(API), 1, calls);
    s.set({ ...s.get("t"), state: "passed", startedAt: at(0), finishedAt: at(3) });
    expect(await createGitHubReporter(deps(s, logger)).reportStatuses("delivery-1")).toEqual(DELIVERED);
    // A late echo (the worker's last step report) or a restart: a fresh reporter on the same store.
    expect(await createGitHubReporter(deps(s, logger)).reportStatuses("delivery-1")).toEqual(DELIVERED);
    expect(calls).toEqual([status("test", "success", "Passed in 3s", "t")]);
    expect(s.statuses.get("t")).toEqual({ state: "success", description: "Passed in 3s" });
    expect(scope.isDone()).toBe(true);
  });

  it("renders each status just before it is sent: a write that waited never sends a stale state", async () => {
    const s = store([
      run({ id: "t", pipeline: "test" }),
      run({ id: "d", pipeline: "deploy", needs: ["test"] }),
    ]);
    const { logger } = recordingLogger();
    const calls: object[] = [];
    let first = true;
    const scope = nock(API)
      .post(STATUSES)
      .times(3)
      .reply(201, async (request: Request) => {
        calls.push((await request.json()) as object);
        if (first) {
          // While the first write waited (GitHub's write limit), test passed and deploy started.
          first = false;
          s.set({ ...s.get("t"), state: "passed", startedAt: at(0), finishedAt: at(4) });
          s.set({ ...s.get("d"), state: "running", steps: [step(0, "Deploy", { state: "running" })] });
        }
        return {};
      });
    expect(await createGitHubReporter(deps(s, logger)).reportStatuses("delivery-1")).toEqual(DELIVERED);
    expect(calls).toEqual([
      status("test", "pending", "Queued", "t"),
      status("test", "success", "Passed in 4s", "t"),
      status("deploy", "pending", "Running: Deploy (1/1)", "d"),
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it("delivers a status after a 500, through Octokit's retry", async () => {
    const s = store([run({ id: "t", state: "failed", detail: "Unit tests exited with 1" })]);
    const { logger } = recordingLogger();
    const Reliable = withReliableDefaults(ProbotOctokit, logger, 1);
    const octokit = new Reliable({ auth: { token: "test-token" } });
    const reporter = createGitHubReporter(deps(s, logger, octokit));
    const calls: object[] = [];
    const scope = nock(API).post(STATUSES).reply(500, { message: "boom" });
    statusRecorder(scope, 1, calls);

    expect(await reporter.reportStatuses("delivery-1")).toEqual(DELIVERED);

    expect(calls).toEqual([status("test", "failure", "Failed: Unit tests exited with 1", "t")]);
    expect(scope.isDone()).toBe(true);
  });

  it("asks the outbox to try again on a 502, sends nothing twice, and stops at the first failure", async () => {
    const s = store([
      run({ id: "t", pipeline: "test", state: "passed", startedAt: at(0), finishedAt: at(5) }),
      run({ id: "d", pipeline: "deploy", needs: ["test"] }),
    ]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const calls: object[] = [];
    const scope = nock(API);
    statusRecorder(scope, 1, calls);
    scope.post(STATUSES).reply(502, { message: "bad gateway" });
    statusRecorder(scope, 1, calls);

    expect(await reporter.reportStatuses("delivery-1")).toEqual({
      ok: false,
      retryable: true,
      error: expect.stringContaining("bad gateway"),
    });
    expect(await reporter.reportStatuses("delivery-1")).toEqual(DELIVERED);

    expect(calls).toEqual([
      status("test", "success", "Passed in 5s", "t"),
      status("deploy", "pending", "Queued", "d"),
    ]);
    expect(scope.isDone()).toBe(true);
    expect(entries.filter((e) => e.level === "warn").map((e) => e.obj)).toEqual([
      expect.objectContaining({ deliveryId: "delivery-1", runId: "d", method: "POST", status: 502 }),
    ]);
  });

  it.each([
    ["429 with Retry-After", 429, { "retry-after": "7" }, 7000],
    ["403 with Retry-After (secondary rate limit)", 403, { "retry-after": "30" }, 30_000],
    [
      "403 with the limit used up",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "RESET" },
      90_000,
    ],
  ])("a rate limit (%s) waits as long as GitHub asks", async (_name, code, headers, waitMs) => {
    const s = store([run({ id: "t" })]);
    const { logger } = recordingLogger();
    const now = Date.now();
    const reset = String(Math.ceil((now + 90_000) / 1000));
    const fixed = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === "RESET" ? reset : v]));
    const scope = nock(API).post(STATUSES).reply(code, { message: "API rate limit exceeded" }, fixed);
    const answer = await createGitHubReporter(deps(s, logger)).reportStatuses("delivery-1");
    expect(answer).toMatchObject({ ok: false, retryable: true });
    const asked = (answer as { retryAfterMs?: number }).retryAfterMs ?? 0;
    expect(asked).toBeGreaterThan(waitMs - 2000);
    expect(asked).toBeLessThanOrEqual(waitMs + 1000); // x-ratelimit-reset is in whole seconds
    expect(s.statuses.size).toBe(0);
    expect(scope.isDone()).toBe(true);
  });

  it("logs a 422 with method, URL and status, does not throw and does not retry", async () => {
    const s = store([run({ id: "t" })]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API).post(STATUSES).reply(422, { message: "Validation Failed" });

    expect(await reporter.reportStatuses("delivery-1")).toEqual({
      ok: false,
      retryable: false,
      error: expect.stringContaining("Validation Failed"),
    });

    expect(scope.isDone()).toBe(true);
    const errors = entries.filter((e) => e.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      obj: { method: "POST", url: `${API}${STATUSES}`, status: 422 },
      msg: "GitHub answered 422; not retrying",
    });
    expect(JSON.stringify(errors)).not.toContain("test-token");
  });

  it("a 403 that is no rate limit (no permission) is not retried", async () => {
    const s = store([run({ id: "t" })]);
    const { logger } = recordingLogger();
    const scope = nock(API).post(STATUSES).reply(403, { message: "Resource not accessible by integration" });
    expect(await createGitHubReporter(deps(s, logger)).reportStatuses("delivery-1")).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(scope.isDone()).toBe(true);
  });

  it("outbox messages: a status message reports its delivery; a malformed payload is refused", async () => {
    const s = store([run({ id: "t", state: "passed", startedAt: at(0), finishedAt: at(5) })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const calls: object[] = [];
    const scope = statusRecorder(nock(API), 1, calls);
    expect(await reporter.handlers[STATUS_TOPIC]({ payload: { deliveryId: "delivery-1" } })).toEqual(
      DELIVERED,
    );
    expect(await reporter.handlers[STATUS_TOPIC]({ payload: { deliveryId: 7 } })).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(
      await reporter.handlers[COMMENT_TOPIC]({ payload: { repo: "acme/app", prNumber: -1 } }),
    ).toMatchObject({ ok: false, retryable: false });
    // A delivery pruned meanwhile has nothing left to report.
    expect(await reporter.handlers[STATUS_TOPIC]({ payload: { deliveryId: "gone" } })).toEqual(DELIVERED);
    expect(calls).toHaveLength(1);
    expect(scope.isDone()).toBe(true);
  });
});

describe("GitHub reporter: PR comment", () => {
  const event = prEvent();
  const pr = { repo: "acme/app", prNumber: 7 };
  const commentsPath = "/repos/acme/app/issues/7/comments";
  const expectedBody = (row: string, sha = SHA) =>
    [
      COMMENT_MARKER,
      "### deploy-bot",
      "",
      `Commit [\`${sha.slice(0, 7)}\`](https://github.com/acme/app/commit/${sha}) · \`feature\` → \`main\``,
      "",
      "| Pipeline | Status | Duration | Run |",
      "| --- | --- | --- | --- |",
      row,
      "",
    ].join("\n");

  it("creates the comment once, then edits it in place, also after a restart", async () => {
    const s = store([run({ id: "t", event })]);
    const { entries, logger } = recordingLogger();
    const bodies: unknown[] = [];
    const scope = nock(API)
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [])
      .post(commentsPath, (b) => bodies.push(["POST", b.body]) > 0)
      .reply(201, { id: 555 })
      .patch("/repos/acme/app/issues/comments/555", (b) => bodies.push(["PATCH", b.body]) > 0)
      .reply(200, { id: 555 });

    expect(await createGitHubReporter(deps(s, logger)).reportComment(pr)).toEqual(DELIVERED);
    // Unchanged: nothing sent.
    expect(await createGitHubReporter(deps(s, logger)).reportComment(pr)).toEqual(DELIVERED);
    s.set({ ...s.get("t"), state: "passed", startedAt: at(0), finishedAt: at(72) });
    // A fresh reporter (a restart) edits the comment it created: the id is in the store, no lookup.
    expect(await createGitHubReporter(deps(s, logger)).reportComment(pr)).toEqual(DELIVERED);

    expect(bodies).toEqual([
      ["POST", expectedBody("| test | ⏳ Queued | — | [details](https://bot.example.com/runs/t) |")],
      [
        "PATCH",
        expectedBody("| test | ✅ Passed in 1m 12s | 1m 12s | [details](https://bot.example.com/runs/t) |"),
      ],
    ]);
    expect(scope.isDone()).toBe(true);
    expect(entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
  });

  it("edits the bot's existing comment found by its marker on a later page", async () => {
    const s = store([run({ id: "t", event, state: "failed", detail: "Unit tests exited with 1" })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(
      deps(s, logger, plainOctokit(), { logTail: async () => "", publicUrl: undefined }),
    );
    let patched: unknown;
    const scope = nock(API)
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [{ id: 1, body: `${COMMENT_MARKER} quoted by a human`, user: { type: "User" } }], {
        Link: `<${API}${commentsPath}?per_page=100&page=2>; rel="next"`,
      })
      .get(commentsPath)
      .query({ per_page: "100", page: "2" })
      .reply(200, [{ id: 99, body: `${COMMENT_MARKER}\nold`, user: { type: "Bot" } }])
      .patch("/repos/acme/app/issues/comments/99", (b) => {
        patched = b.body;
        return true;
      })
      .reply(200, { id: 99 });

    expect(await reporter.reportComment(pr)).toEqual(DELIVERED);

    expect(patched).toBe(expectedBody("| test | ❌ Failed: Unit tests exited with 1 | — | — |"));
    expect(scope.isDone()).toBe(true);
  });

  it("never creates two comments when two reports of the same PR race; it shows the newest head", async () => {
    const newer = prEvent({ deliveryId: "delivery-2", sha: "f".repeat(40), action: "synchronize" });
    const s = store([
      run({ id: "a", event, deliveryId: "delivery-1", createdAt: at(0) }),
      run({ id: "b", event: newer, deliveryId: "delivery-2", createdAt: at(10) }),
    ]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const writes: [string, string][] = [];
    const scope = nock(API)
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [])
      .post(commentsPath, (b) => writes.push(["POST", b.body]) > 0)
      .reply(201, { id: 777 });

    const answers = await Promise.all([reporter.reportComment(pr), reporter.reportComment(pr)]);

    expect(answers).toEqual([DELIVERED, DELIVERED]);
    expect(writes).toEqual([
      [
        "POST",
        expectedBody("| test | ⏳ Queued | — | [details](https://bot.example.com/runs/b) |", "f".repeat(40)),
      ],
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it("a comment deleted by someone is created again", async () => {
    const s = store([run({ id: "t", event })]);
    const { logger } = recordingLogger();
    await s.sent.recordCommentSent(pr, { commentId: 31, bodySha256: "stale" });
    const scope = nock(API)
      .patch("/repos/acme/app/issues/comments/31")
      .reply(404, { message: "Not Found" })
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [])
      .post(commentsPath)
      .reply(201, { id: 32 });
    expect(await createGitHubReporter(deps(s, logger)).reportComment(pr)).toEqual(DELIVERED);
    expect(await s.sent.commentSent(pr)).toMatchObject({ commentId: 32 });
    expect(scope.isDone()).toBe(true);
  });
});

describe("GitHub reporter: check runs (settings.checks)", () => {
  const CHECK_RUNS = "/repos/acme/app/check-runs";
  /** Records method, path and JSON body of each check run call in order; creates get ids 100, 101, … */
  function checkRecorder(calls: { method: string; path: string; body: Record<string, unknown> }[]) {
    let nextId = 100;
    return async (request: Request) => {
      const body = (await request.json()) as Record<string, unknown>;
      calls.push({ method: request.method, path: new URL(request.url).pathname, body });
      return {
        id: request.method === "POST" ? nextId++ : Number(new URL(request.url).pathname.split("/").pop()),
      };
    };
  }

  it("creates one check run per run, then updates it: queued → in_progress → completed with the log tail", async () => {
    const s = store([
      run({ id: "t", pipeline: "test", steps: testSteps([]) }),
      run({ id: "d", pipeline: "deploy", needs: ["test"], environment: "production" }),
    ]);
    const { entries, logger } = recordingLogger();
    const tails: [string, number, number][] = [];
    const reporter = createGitHubReporter(
      deps(s, logger, plainOctokit(), {
        logTail: async (runId, index, lines) => {
          tails.push([runId, index, lines]);
          return "npm ERR! token=[masked]\n";
        },
      }),
    );
    const calls: { method: string; path: string; body: Record<string, unknown> }[] = [];
    const reply = checkRecorder(calls);
    const scope = nock(API)
      .post(CHECK_RUNS)
      .times(2)
      .reply(201, reply)
      .patch(`${CHECK_RUNS}/100`)
      .times(2)
      .reply(200, reply)
      .patch(`${CHECK_RUNS}/101`)
      .reply(200, reply);
    const deliver = async () => expect(await reporter.reportCheckRuns("delivery-1")).toEqual(DELIVERED);

    await deliver();
    s.set({ ...s.get("t"), state: "running", startedAt: at(0), steps: testSteps(["running"]) });
    await deliver();
    await deliver(); // nothing changed: nothing sent
    s.set({ ...s.get("t"), state: "failed", finishedAt: at(40), steps: testSteps(["passed", "failed"]) });
    s.set({ ...s.get("d"), state: "skipped", finishedAt: at(40) });
    await deliver();

    expect(calls.map((c) => `${c.method} ${c.path} ${c.body.status}/${c.body.conclusion ?? "-"}`)).toEqual([
      `POST ${CHECK_RUNS} queued/-`,
      `POST ${CHECK_RUNS} queued/-`,
      `PATCH ${CHECK_RUNS}/100 in_progress/-`,
      `PATCH ${CHECK_RUNS}/100 completed/failure`,
      `PATCH ${CHECK_RUNS}/101 completed/skipped`,
    ]);
    expect(calls[0]?.body).toEqual({
      head_sha: SHA,
      name: "deploy-bot/test",
      external_id: "t",
      details_url: "https://bot.example.com/runs/t",
      status: "queued",
      output: expect.objectContaining({ title: "Queued" }),
    });
    expect(calls[2]?.body).toMatchObject({ started_at: "2025-01-01T12:00:00.000Z", actions: [] });
    expect(calls[3]?.body).toMatchObject({
      name: "deploy-bot/test",
      external_id: "t",
      completed_at: "2025-01-01T12:00:40.000Z",
      output: {
        title: "Failed: Unit tests exited with 1",
        text: "Last line of `Unit tests` (secrets masked):\n\n```text\nnpm ERR! token=[masked]\n```\n",
      },
    });
    expect(calls[4]?.body.output).toMatchObject({ title: "Skipped: test failed" });
    expect(calls.some((c) => "head_sha" in c.body && c.method === "PATCH")).toBe(false);
    expect(tails).toEqual([["t", 1, 200]]);
    expect(s.checkRuns.get("t")).toMatchObject({ checkRunId: 100, completed: true });
    expect(scope.isDone()).toBe(true);
    expect(entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
  });

  it("a run approved after action_required gets a new check run; the old one stays as history", async () => {
    const s = store([run({ id: "t", state: "awaiting_approval", event: prEvent({ fork: true }) })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const calls: { method: string; path: string; body: Record<string, unknown> }[] = [];
    const reply = checkRecorder(calls);
    const scope = nock(API).post(CHECK_RUNS).times(2).reply(201, reply);

    expect(await reporter.reportCheckRuns("delivery-1")).toEqual(DELIVERED);
    s.set({ ...s.get("t"), state: "queued" });
    expect(await reporter.reportCheckRuns("delivery-1")).toEqual(DELIVERED);

    expect(calls[0]?.body).toMatchObject({
      status: "completed",
      conclusion: "action_required",
      actions: [{ identifier: "approve", label: "Approve", description: "Run this fork's commit 1a2b3c4" }],
    });
    expect(calls[1]?.body).toMatchObject({ status: "queued", external_id: "t" });
    expect(calls[1]?.body).not.toHaveProperty("actions");
    expect(s.checkRuns.get("t")).toMatchObject({ checkRunId: 101, completed: false });
    expect(scope.isDone()).toBe(true);
  });

  it("after a create whose answer was lost, finds the check run by external_id instead of creating a second", async () => {
    const s = store([run({ id: "t", pipeline: "test" })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API)
      .post(CHECK_RUNS)
      .reply(502, { message: "Bad Gateway" })
      .get(`/repos/acme/app/commits/${SHA}/check-runs`)
      .query({ check_name: "deploy-bot/test", filter: "all", per_page: "100" })
      .reply(200, {
        total_count: 2,
        check_runs: [
          { id: 7, external_id: "another-run" },
          { id: 8, external_id: "t" },
        ],
      })
      .patch(`${CHECK_RUNS}/8`)
      .reply(200, { id: 8 });

    expect(await reporter.reportCheckRuns("delivery-1")).toMatchObject({ ok: false, retryable: true });
    expect(s.checkRuns.get("t")).toMatchObject({ checkRunId: null, createStarted: true });
    s.set({ ...s.get("t"), state: "running", startedAt: at(0) });
    expect(await reporter.reportCheckRuns("delivery-1")).toEqual(DELIVERED);
    expect(s.checkRuns.get("t")).toMatchObject({ checkRunId: 8, createStarted: false });
    expect(scope.isDone()).toBe(true);
  });

  it("a lost create that never reached GitHub is created after the lookup finds nothing", async () => {
    const s = store([run({ id: "t", pipeline: "test" })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API)
      .post(CHECK_RUNS)
      .replyWithError("socket hang up")
      .get(`/repos/acme/app/commits/${SHA}/check-runs`)
      .query(true)
      .reply(200, { total_count: 0, check_runs: [] })
      .post(CHECK_RUNS)
      .reply(201, { id: 9 });
    expect(await reporter.reportCheckRuns("delivery-1")).toMatchObject({ ok: false, retryable: true });
    expect(await reporter.reportCheckRuns("delivery-1")).toEqual(DELIVERED);
    expect(s.checkRuns.get("t")).toMatchObject({ checkRunId: 9 });
    expect(scope.isDone()).toBe(true);
  });

  it("a refused create (422) is logged and not retried; the delivery's other runs are still reported", async () => {
    const s = store([run({ id: "t", pipeline: "test" }), run({ id: "l", pipeline: "lint" })]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API)
      .post(CHECK_RUNS, (body) => body.external_id === "t")
      .reply(422, { message: "Validation Failed" })
      .post(CHECK_RUNS, (body) => body.external_id === "l")
      .reply(201, { id: 5 });
    expect(await reporter.reportCheckRuns("delivery-1")).toMatchObject({ ok: false, retryable: false });
    expect(s.checkRuns.get("l")).toMatchObject({ checkRunId: 5 });
    expect(entries.find((e) => e.level === "error")?.obj).toMatchObject({
      runId: "t",
      status: 422,
      method: "POST",
    });
    expect(scope.isDone()).toBe(true);
  });

  it("the outbox handler takes a delivery id; anything else is a malformed message", async () => {
    const s = store([run({ id: "t", pipeline: "test", state: "passed", finishedAt: at(2) })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API).post(CHECK_RUNS).reply(201, { id: 3 });
    expect(await reporter.handlers[CHECK_TOPIC]({ payload: { deliveryId: "delivery-1" } })).toEqual(
      DELIVERED,
    );
    expect(await reporter.handlers[CHECK_TOPIC]({ payload: { deliveryId: ["x"] } })).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(await reporter.handlers[CHECK_TOPIC]({ payload: { deliveryId: "gone" } })).toEqual(DELIVERED);
    expect(scope.isDone()).toBe(true);
  });
});
