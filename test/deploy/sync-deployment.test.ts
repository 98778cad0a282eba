import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDeploymentHandler, type DeploymentOctokit } from "../../src/deploy/sync-deployment.ts";
import type { StoredOutboxMessage } from "../../src/outbox/outbox.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { RunDeployment, RunDeployments } from "../../src/store/run-deployments.ts";
import { at, prEvent, run, SHA, step } from "../report/fixtures.ts";

const API = "https://api.github.com";
const DEPLOYMENTS = "/repos/acme/app/deployments";

function plainOctokit(): DeploymentOctokit {
  return new ProbotOctokit({ auth: { token: "t" }, throttle: { enabled: false }, retry: { enabled: false } });
}

/** In-memory `RunDeployments`, as the store keeps them. */
function memoryDeployments(initial: Record<string, RunDeployment> = {}) {
  const rows = new Map(Object.entries(initial));
  const deployments: RunDeployments = {
    async get(runId) {
      return rows.get(runId) ?? null;
    },
    async markCreating(runId) {
      rows.set(runId, { deploymentId: null, lastStatus: null, ...rows.get(runId), createStarted: true });
    },
    async setDeploymentId(runId, deploymentId) {
      rows.set(runId, { createStarted: false, lastStatus: null, ...rows.get(runId), deploymentId });
    },
    async setLastStatus(runId, key) {
      const row = rows.get(runId);
      if (row) rows.set(runId, { ...row, lastStatus: key });
    },
  };
  return { rows, deployments };
}

const deployRun = (overrides: Partial<RunRecord> = {}) =>
  run({ id: "run-1", pipeline: "deploy", environment: "production", ...overrides });

function setup(runs: RunRecord[], initial: Record<string, RunDeployment> = {}) {
  const memory = memoryDeployments(initial);
  const logs: string[] = [];
  const current = new Map(runs.map((r) => [r.id, r]));
  const handler = createDeploymentHandler({
    octokitFor: async (id) => {
      expect(id).toBe(42);
      return plainOctokit();
    },
    runsForDelivery: async (deliveryId) => [...current.values()].filter((r) => r.deliveryId === deliveryId),
    deployments: memory.deployments,
    pipeline: () => ({ production: undefined }),
    runUrl: (id) => `https://bot.example.com/runs/${id}`,
    logger: { info: (_o, msg) => logs.push(String(msg)), warn: (_o, msg) => logs.push(String(msg)) },
    now: () => at(100),
  });
  const message = (runId = "run-1", attempts = 0): StoredOutboxMessage => ({
    id: "1",
    topic: "deployment",
    key: runId,
    payload: { runId, deliveryId: "delivery-1" },
    attempts,
    createdAt: at(0),
  });
  return { ...memory, logs, handler, message, set: (r: RunRecord) => current.set(r.id, r) };
}

/** Records request bodies in order. */
const bodies: unknown[] = [];
const recordBody = (status: number, json: object) => async (request: Request) => {
  bodies.push(await request.json());
  return [status, json] as [number, object];
};

beforeEach(() => {
  bodies.length = 0;
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("the deployment handler", () => {
  it("creates the Deployment at the exact SHA, posts queued, and then only what changed", async () => {
    const t = setup([deployRun()]);
    const scope = nock(API)
      .post(DEPLOYMENTS)
      .reply(recordBody(201, { id: 555 }))
      .post(`${DEPLOYMENTS}/555/statuses`)
      .reply(recordBody(201, { id: 1 }));
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(bodies).toEqual([
      {
        ref: SHA,
        task: "deploy",
        auto_merge: false,
        required_contexts: [],
        payload: { run_id: "run-1", pipeline: "deploy", delivery_id: "delivery-1" },
        environment: "production",
        description: "deploy-bot: deploy at 1a2b3c4",
        transient_environment: false,
        production_environment: true,
      },
      { state: "queued", description: "Queued", log_url: "https://bot.example.com/runs/run-1" },
    ]);
    expect(t.rows.get("run-1")).toEqual({ deploymentId: 555, createStarted: true, lastStatus: "queued " });

    // The same state again (a step's progress): GitHub is not called (net connect is off).
    expect(await t.handler(t.message())).toEqual({ ok: true });

    // Running, then passed with the URL a step reported.
    bodies.length = 0;
    t.set(
      deployRun({ state: "running", startedAt: at(1), steps: [step(0, "Deploy", { state: "running" })] }),
    );
    const running = nock(API)
      .post(`${DEPLOYMENTS}/555/statuses`)
      .reply(recordBody(201, { id: 2 }));
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(running.isDone()).toBe(true);
    t.set(
      deployRun({
        state: "passed",
        startedAt: at(1),
        finishedAt: at(31),
        environmentUrl: "https://app.example.com/",
        steps: [step(0, "Deploy", { state: "passed" })],
      }),
    );
    const passed = nock(API)
      .post(`${DEPLOYMENTS}/555/statuses`)
      .reply(recordBody(201, { id: 3 }));
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(passed.isDone()).toBe(true);
    expect(bodies).toEqual([
      {
        state: "in_progress",
        description: "Running: Deploy (1/1)",
        log_url: "https://bot.example.com/runs/run-1",
      },
      {
        state: "success",
        description: "Passed in 30s",
        log_url: "https://bot.example.com/runs/run-1",
        environment_url: "https://app.example.com/",
      },
    ]);
  });

  it("makes a pull request's Deployment transient", async () => {
    const t = setup([deployRun({ environment: "staging", event: prEvent() })]);
    const scope = nock(API)
      .post(
        DEPLOYMENTS,
        (body) => body.transient_environment === true && body.production_environment === false,
      )
      .reply(201, { id: 9 })
      .post(`${DEPLOYMENTS}/9/statuses`)
      .reply(201, { id: 1 });
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it("after a create whose answer was lost, finds the Deployment by run id instead of making a second", async () => {
    const t = setup([deployRun({ state: "running", startedAt: at(1) })], {
      "run-1": { deploymentId: null, createStarted: true, lastStatus: null },
    });
    const scope = nock(API)
      .get(DEPLOYMENTS)
      .query({ sha: SHA, environment: "production", task: "deploy", per_page: "100" })
      .reply(200, [
        { id: 1, payload: { run_id: "another-run" } },
        { id: 777, payload: JSON.stringify({ run_id: "run-1" }) },
      ])
      .post(`${DEPLOYMENTS}/777/statuses`, (body) => body.state === "in_progress")
      .reply(201, { id: 1 });
    expect(await t.handler(t.message("run-1", 1))).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(t.rows.get("run-1")?.deploymentId).toBe(777);
  });

  it("creates it when the lookup finds none", async () => {
    const t = setup([deployRun()], {
      "run-1": { deploymentId: null, createStarted: true, lastStatus: null },
    });
    const scope = nock(API)
      .get(DEPLOYMENTS)
      .query(true)
      .reply(200, [])
      .post(DEPLOYMENTS)
      .reply(201, { id: 8 })
      .post(`${DEPLOYMENTS}/8/statuses`)
      .reply(201, { id: 1 });
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it("makes no Deployment for a run superseded before it had one", async () => {
    const t = setup([deployRun({ state: "superseded", detail: "b".repeat(40), finishedAt: at(1) })]);
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(t.rows.size).toBe(0);
  });

  it("posts error for a deploy superseded after its Deployment was made", async () => {
    const t = setup([deployRun({ state: "superseded", detail: "b".repeat(40), finishedAt: at(1) })], {
      "run-1": { deploymentId: 5, createStarted: true, lastStatus: "queued " },
    });
    const scope = nock(API)
      .post(
        `${DEPLOYMENTS}/5/statuses`,
        (body) => body.state === "error" && body.description === "Superseded by bbbbbbb",
      )
      .reply(201, { id: 1 });
    expect(await t.handler(t.message())).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it("does nothing for a run that is gone (pruned) or not a deploy", async () => {
    const t = setup([run({ id: "plain", environment: null })]);
    expect(await t.handler(t.message("missing"))).toEqual({ ok: true });
    expect(await t.handler(t.message("plain"))).toEqual({ ok: true });
  });

  it("refuses a malformed message for good", async () => {
    const t = setup([deployRun()]);
    const result = await t.handler({ ...t.message(), payload: { runId: 5 } });
    expect(result).toEqual({ ok: false, retryable: false, error: "not a deployment message" });
  });
});

describe("the deployment handler, when GitHub says no", () => {
  it.each([
    [422, { message: "No ref found for: 1a2b3c4" }, {}, false, undefined],
    [404, { message: "Not Found" }, {}, false, undefined],
    [403, { message: "Resource not accessible by integration" }, {}, false, undefined],
    [500, { message: "boom" }, {}, true, undefined],
    [502, { message: "bad gateway" }, {}, true, undefined],
    [429, { message: "slow down" }, { "retry-after": "30" }, true, 30_000],
    [403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "60" }, true, 60_000],
  ] as const)("create answered %i: retryable %s", async (status, json, headers, retryable, retryAfterMs) => {
    const t = setup([deployRun()]);
    const scope = nock(API).post(DEPLOYMENTS).reply(status, json, headers);
    const result = await t.handler(t.message());
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ ok: false, retryable });
    expect(result.ok ? "ok" : result.retryAfterMs).toBe(retryAfterMs);
    expect(result.ok === false && result.error).toContain(
      `creating the Deployment: GitHub answered ${status}`,
    );
    // Marked before sending: the next try looks before creating.
    expect(t.rows.get("run-1")).toMatchObject({ deploymentId: null, createStarted: true });
  });

  it("waits for the primary rate limit's reset", async () => {
    const t = setup([deployRun()]);
    const reset = Math.floor(Date.now() / 1000) + 120;
    const scope = nock(API)
      .post(DEPLOYMENTS)
      .reply(
        403,
        { message: "API rate limit exceeded" },
        {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(reset),
        },
      );
    const result = await t.handler(t.message());
    expect(scope.isDone()).toBe(true);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.retryable).toBe(true);
    expect(result.retryAfterMs).toBeGreaterThan(100_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it("a Deployment deleted on GitHub (404 on its status) is given up, the status not recorded as posted", async () => {
    const t = setup([deployRun({ state: "running", startedAt: at(1) })], {
      "run-1": { deploymentId: 5, createStarted: true, lastStatus: "queued " },
    });
    const scope = nock(API).post(`${DEPLOYMENTS}/5/statuses`).reply(404, { message: "Not Found" });
    const result = await t.handler(t.message());
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(t.rows.get("run-1")?.lastStatus).toBe("queued ");
  });

  it("a status that failed with 5xx is posted on the next try, without a second Deployment", async () => {
    const t = setup([deployRun()]);
    const first = nock(API)
      .post(DEPLOYMENTS)
      .reply(201, { id: 3 })
      .post(`${DEPLOYMENTS}/3/statuses`)
      .reply(503, { message: "unavailable" });
    expect(await t.handler(t.message())).toMatchObject({ ok: false, retryable: true });
    expect(first.isDone()).toBe(true);
    const second = nock(API).post(`${DEPLOYMENTS}/3/statuses`).reply(201, { id: 1 });
    expect(await t.handler(t.message("run-1", 1))).toEqual({ ok: true });
    expect(second.isDone()).toBe(true);
  });
});
