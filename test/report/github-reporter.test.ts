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
import type { RunRecord } from "../../src/runs/run.ts";
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

/** A fake run store: tests replace runs and the reporter reads them fresh, as it would from the database. */
function store(initial: RunRecord[]) {
  const runs = new Map(initial.map((r) => [r.id, r]));
  return {
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
    statusContext: "deploy-bot",
    publicUrl: "https://bot.example.com/",
    logger,
    debounceMs: 60_000, // only flush() or final states trigger a report: deterministic
    retry: { attempts: 3, baseDelayMs: 5 },
    ...extra,
  };
}

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
      reporter.runChanged(s.set(r));
    };

    changed(s.get("t")); // first change of the delivery: reported at once
    await reporter.flush();
    for (let i = 0; i < 20; i += 1) {
      const states = (["passed", "passed", "passed"] as const).map((st, k) => (k < i / 7 ? st : "pending"));
      const running = testSteps([...states.slice(0, Math.floor(i / 7)), "running"]);
      changed({ ...s.get("t"), state: "running", startedAt: at(0), steps: running });
    }
    await reporter.flush();
    for (let i = 0; i < 27; i += 1) changed({ ...s.get("t") }); // log lines: same description, nothing sent
    await reporter.flush();
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
    changed({
      ...s.get("d"),
      state: "passed",
      finishedAt: at(75),
      steps: [step(0, "Deploy", { state: "passed" })],
    });
    await reporter.flush();

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

  it("sends a final status once when the run's end is echoed after it was delivered", async () => {
    const s = store([run({ id: "t", pipeline: "test" })]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger, plainOctokit(), { forgetAfterMs: 50 }));
    const calls: object[] = [];
    const scope = statusRecorder(nock(API), 2, calls);
    const passed = { ...s.get("t"), state: "passed" as const, startedAt: at(0), finishedAt: at(3) };
    reporter.runChanged(s.set(passed));
    await reporter.flush();
    reporter.runChanged(s.get("t")); // the worker's step report or a redelivery, after the end
    await reporter.flush();
    expect(calls).toEqual([status("test", "success", "Passed in 3s", "t")]);

    // Forgotten after the quiet spell: a much later change is reported afresh.
    await new Promise((resolve) => setTimeout(resolve, 120));
    reporter.runChanged(s.get("t"));
    await reporter.flush();
    expect(calls).toHaveLength(2);
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

    reporter.runChanged(s.get("t"));
    await reporter.flush();

    expect(calls).toEqual([status("test", "failure", "Failed: Unit tests exited with 1", "t")]);
    expect(scope.isDone()).toBe(true);
  });

  it("reports again later by itself when GitHub keeps failing, until delivered", async () => {
    const s = store([run({ id: "t", state: "passed", startedAt: at(0), finishedAt: at(5) })]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const calls: object[] = [];
    const scope = nock(API).post(STATUSES).times(2).reply(502, { message: "bad gateway" });
    statusRecorder(scope, 1, calls);

    reporter.runChanged(s.get("t"));
    await reporter.flush();

    expect(calls).toEqual([status("test", "success", "Passed in 5s", "t")]);
    expect(scope.isDone()).toBe(true);
    expect(entries.filter((e) => e.msg === "will report this delivery again").map((e) => e.obj)).toEqual([
      { deliveryId: "delivery-1", attempt: 1, delayMs: 5 },
      { deliveryId: "delivery-1", attempt: 2, delayMs: 10 },
    ]);
  });

  it("logs a 422 with method, URL and status, does not throw and does not retry", async () => {
    const s = store([run({ id: "t" })]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const scope = nock(API).post(STATUSES).reply(422, { message: "Validation Failed" });

    expect(() => reporter.runChanged(s.get("t"))).not.toThrow();
    await reporter.flush();

    expect(scope.isDone()).toBe(true);
    const errors = entries.filter((e) => e.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      obj: { method: "POST", url: `${API}${STATUSES}`, status: 422 },
      msg: "GitHub answered 422; not retrying",
    });
    expect(JSON.stringify(errors)).not.toContain("test-token");
  });
});

describe("GitHub reporter: PR comment", () => {
  const event = prEvent();
  const commentsPath = "/repos/acme/app/issues/7/comments";
  const expectedBody = (row: string) =>
    [
      COMMENT_MARKER,
      "### deploy-bot",
      "",
      `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA}) · \`feature\` → \`main\``,
      "",
      "| Pipeline | Status | Duration | Run |",
      "| --- | --- | --- | --- |",
      row,
      "",
    ].join("\n");

  it("creates the comment once, then edits it in place", async () => {
    const s = store([run({ id: "t", event })]);
    const { entries, logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const bodies: unknown[] = [];
    const scope = nock(API)
      .post(STATUSES)
      .times(2)
      .reply(201, {})
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [])
      .post(commentsPath, (b) => bodies.push(["POST", b.body]) > 0)
      .reply(201, { id: 555 })
      .patch("/repos/acme/app/issues/comments/555", (b) => bodies.push(["PATCH", b.body]) > 0)
      .reply(200, { id: 555 });

    reporter.runChanged(s.get("t"));
    await reporter.flush();
    reporter.runChanged(s.set({ ...s.get("t"), state: "passed", startedAt: at(0), finishedAt: at(72) }));
    await reporter.flush();

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
      .post(STATUSES)
      .reply(201, {})
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

    reporter.runChanged(s.get("t"));
    await reporter.flush();

    expect(patched).toBe(expectedBody("| test | ❌ Failed: Unit tests exited with 1 | — | — |"));
    expect(scope.isDone()).toBe(true);
  });

  it("never creates two comments when two deliveries of the same PR race", async () => {
    const newer = prEvent({ deliveryId: "delivery-2", sha: "f".repeat(40), action: "synchronize" });
    const s = store([
      run({ id: "a", event, deliveryId: "delivery-1", createdAt: at(0) }),
      run({ id: "b", event: newer, deliveryId: "delivery-2", createdAt: at(10) }),
    ]);
    const { logger } = recordingLogger();
    const reporter = createGitHubReporter(deps(s, logger));
    const writes: [string, string][] = [];
    const scope = nock(API)
      .post(STATUSES)
      .reply(201, {})
      .post(`/repos/acme/app/statuses/${"f".repeat(40)}`)
      .reply(201, {})
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, [])
      .post(commentsPath, (b) => writes.push(["POST", b.body]) > 0)
      .reply(201, { id: 777 });
    // Whether the older delivery's comment comes first (then edited) or is skipped depends on network timing.
    nock(API)
      .patch("/repos/acme/app/issues/comments/777", (b) => writes.push(["PATCH", b.body]) > 0)
      .optionally()
      .reply(200, { id: 777 });

    reporter.runChanged(s.get("a"));
    reporter.runChanged(s.get("b"));
    await reporter.flush();

    expect(writes.filter(([method]) => method === "POST")).toHaveLength(1);
    expect(writes.at(-1)?.[1]).toContain("Commit [`fffffff`]");
    expect(scope.isDone()).toBe(true);
  });
});
