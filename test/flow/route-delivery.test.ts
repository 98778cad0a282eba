import http from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import { listChangedFilesWithin, type RouteDeps, routeDelivery } from "../../src/flow/route-delivery.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { fixture, pullRequestEvent } from "../fixtures/fixtures.ts";

const silent = { info() {}, warn() {} };
const parsed = parseConfig(
  `
version: 1
pipelines:
  test: { steps: [{ name: Unit tests, run: "true" }] }
rules:
  - name: main
    on: { push: { branches: [main] } }
    run: [test]
`,
  "deploy.config.yaml",
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const config = parsed.config;

function deps(): RouteDeps {
  const seen = new Set<string>();
  return {
    config: () => config,
    record: async (input) => {
      const duplicate = seen.has(input.deliveryId);
      seen.add(input.deliveryId);
      const runs = duplicate
        ? []
        : input.runs.map((run) => ({ id: "r", pipeline: run.pipeline }) as RunRecord);
      return { duplicate, runs, superseded: [], skipped: [] };
    },
    recordIgnored() {},
    report() {},
    approveRuns: async () => [],
    metrics: { delivery() {} },
    approvalOctokitFor: async () => {
      throw new Error("no approval expected");
    },
    filesOctokitFor: async () => {
      throw new Error("no listing expected");
    },
    logger: silent,
  };
}

describe("routeDelivery", () => {
  it("answers each outcome as GitHub should see it", async () => {
    const d = deps();
    const push = { id: "p1", name: "push", payload: fixture("push.branch") };
    expect(await routeDelivery(d, push)).toEqual({ status: 202, body: "accepted: 1 runs queued\n" });
    expect(await routeDelivery(d, push)).toEqual({
      status: 200,
      body: "duplicate delivery: already accepted\n",
    });
    expect(await routeDelivery(d, { id: "i1", name: "issues", payload: {} })).toEqual({
      status: 202,
      body: "ignored: issues events run nothing\n",
    });
  });
});

describe("routeDelivery and the bot's own Deployments", () => {
  // The bot creates Deployments and their statuses; GitHub's `deployment` / `deployment_status` webhooks about
  // them must never start anything (no loops), even for a repository and ref that a rule matches.
  it.each(["deployment", "deployment_status"])("ignores %s deliveries", async (name) => {
    let recorded = 0;
    const d = {
      ...deps(),
      record: async () => {
        recorded += 1;
        throw new Error("nothing may be recorded");
      },
    };
    const payload = {
      ...fixture("push.branch"),
      action: "created",
      deployment: { id: 1, sha: "a".repeat(40), ref: "main" },
    };
    expect(await routeDelivery(d, { id: `own-${name}`, name, payload })).toEqual({
      status: 202,
      body: `ignored: ${name} events run nothing\n`,
    });
    expect(recorded).toBe(0);
  });
});

describe("listChangedFilesWithin", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("gives up at the time limit and cancels the abandoned listing", async () => {
    // A GitHub that never answers: the request stays open unless the client aborts it.
    let closed: () => void = () => {};
    const requestClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.on("close", () => closed());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const octokit = new Octokit({
      baseUrl: `http://127.0.0.1:${port}`,
      log: { ...silent, debug() {}, error() {} },
    });

    const result = await listChangedFilesWithin(
      { filesOctokitFor: async () => octokit, logger: silent, listFilesTimeoutMs: 300 },
      pullRequestEvent(),
    );
    expect(result).toEqual({
      known: false,
      reason: "listing the pull request's files failed: Error: timed out",
    });
    const outcome = await Promise.race([
      requestClosed.then(() => "cancelled"),
      new Promise((resolve) => setTimeout(() => resolve("still open"), 2000)),
    ]);
    expect(outcome).toBe("cancelled");
    expect(requests).toEqual(["GET /repos/Codertocat/Hello-World/pulls/2/files?per_page=100"]);
  });
});

describe("routeDelivery for comments", () => {
  const commentDeps = (known: boolean): RouteDeps => ({
    ...deps(),
    commands: {
      octokitFor: async () => {
        throw new Error("no GitHub call expected");
      },
      store: {
        isKnownDelivery: async () => known,
        recordCommand: async () => {
          throw new Error("no record expected");
        },
        runsAtSha: async () => [],
        deploysOf: async () => [],
      },
    },
  });
  const comment = (body: string, user: Record<string, unknown> = { login: "alice", type: "User" }) => ({
    action: "created",
    issue: { number: 2, pull_request: {} },
    comment: { id: 1, body, user },
    repository: fixture("push.branch").repository,
    installation: { id: 1 },
    sender: user,
  });

  it.each([
    ["not a command", comment("LGTM"), "ignored: the first line is not a /deploy-bot command\n"],
    [
      "a bot's command",
      comment("/deploy-bot deploy staging", { login: "deploy-bot[bot]", type: "Bot" }),
      "ignored: comments by bots (this one included) are never commands\n",
    ],
    [
      "an edited command",
      { ...comment("/deploy-bot deploy staging"), action: "edited" },
      "ignored: comment edited: only new comments are commands\n",
    ],
  ])("ignores %s without a call to GitHub", async (_what, payload, body) => {
    expect(await routeDelivery(commentDeps(false), { id: "c1", name: "issue_comment", payload })).toEqual({
      status: 202,
      body,
    });
  });

  it("acknowledges a redelivered command and does nothing", async () => {
    const payload = comment("/deploy-bot deploy staging");
    expect(await routeDelivery(commentDeps(true), { id: "c2", name: "issue_comment", payload })).toEqual({
      status: 200,
      body: "duplicate delivery: already handled\n",
    });
  });
});

describe("routeDelivery for the Checks tab", () => {
  const counted: string[] = [];
  const checkDeps = (known: boolean): RouteDeps => ({
    ...deps(),
    metrics: { delivery: (event, outcome) => counted.push(`${event}:${outcome}`) },
    checks: {
      appId: "31337",
      octokitFor: async () => {
        throw new Error("no GitHub call expected");
      },
      store: {
        isKnownDelivery: async () => known,
        recordCommand: async () => {
          throw new Error("no record expected");
        },
        recordRerun: async () => {
          throw new Error("no record expected");
        },
        runsAtSha: async () => [],
        getRun: async () => null,
      },
    },
  });
  const sha = "a".repeat(40);
  const checkRun = (action: string, app: unknown = { id: 31337 }) => ({
    action,
    check_run: { id: 9, head_sha: sha, external_id: "runid", app, pull_requests: [] },
    repository: fixture("push.branch").repository,
    installation: { id: 1 },
    sender: { login: "alice", type: "User" },
  });

  it.each([
    [
      "the App's own check run being created",
      "check_run",
      checkRun("created"),
      "check_run created: only rerequested and requested_action ask deploy-bot for something",
    ],
    [
      "a check run completing",
      "check_run",
      checkRun("completed"),
      "check_run completed: only rerequested and requested_action ask deploy-bot for something",
    ],
    [
      "another App's re-run",
      "check_run",
      checkRun("rerequested", { id: 1 }),
      "check_run of another App: not deploy-bot's",
    ],
    [
      "a new check suite (pushes are read from push)",
      "check_suite",
      { ...checkRun("requested"), check_suite: { id: 3, head_sha: sha, app: { id: 31337 } } },
      "check_suite requested: only rerequested ask deploy-bot for something",
    ],
  ])("ignores %s without a call to GitHub", async (_what, name, payload, reason) => {
    counted.length = 0;
    expect(await routeDelivery(checkDeps(false), { id: "k1", name, payload })).toEqual({
      status: 202,
      body: `ignored: ${reason}\n`,
    });
    expect(counted).toEqual([`${name}:ignored`]);
  });

  it("acknowledges a redelivered re-run and does nothing", async () => {
    counted.length = 0;
    const payload = checkRun("rerequested");
    expect(await routeDelivery(checkDeps(true), { id: "k2", name: "check_run", payload })).toEqual({
      status: 200,
      body: "duplicate delivery: already handled\n",
    });
    expect(counted).toEqual(["check_run:duplicate"]);
  });

  it("without checks wired in, check deliveries run nothing", async () => {
    expect(
      await routeDelivery(deps(), { id: "k3", name: "check_run", payload: checkRun("rerequested") }),
    ).toEqual({ status: 202, body: "ignored: check_run events run nothing\n" });
  });
});
