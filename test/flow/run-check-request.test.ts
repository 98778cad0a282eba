/**
 * Requests from the Checks tab carried out against a real store (PGlite + pg-boss), with nock for GitHub:
 * Re-run (chains hold), Re-run all checks, the Approve and Deploy buttons, who may, forged check runs, and a
 * redelivery that does nothing twice.
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import type { DeployEvent, RepoRef } from "../../src/events/deploy-event.ts";
import { isIgnored } from "../../src/events/deploy-event.ts";
import { type CheckRequest, normaliseCheckRequest } from "../../src/events/normalise-check-request.ts";
import { COMMAND_FEEDBACK_TOPIC, commandFeedbackHandler } from "../../src/flow/command-feedback.ts";
import { type CheckRequestDeps, runCheckRequest } from "../../src/flow/run-check-request.ts";
import { createCommentUpserter } from "../../src/report/comment-upserter.ts";
import type { OctokitLike } from "../../src/report/octokit-like.ts";
import { useFlowStore } from "../helpers/flow-store.ts";
import { delivery, pullRequestEvent, pushEvent, run } from "../queue/fixtures.ts";
import { API, configOf, testOctokit } from "../security/security-harness.ts";

const APP_ID = "31337";
const REPO = "/repos/Codertocat/Hello-World";
const HELLO: RepoRef = {
  owner: "Codertocat",
  name: "Hello-World",
  fullName: "Codertocat/Hello-World",
  cloneUrl: "https://github.com/Codertocat/Hello-World.git",
  private: false,
};
const CONFIG = configOf(`
version: 1
pipelines:
  test:
    steps: [{ name: Unit tests, run: npm test }]
  deploy:
    environment: staging
    steps: [{ name: Deploy, run: ./deploy.sh }]
  deploy-production:
    environment: production
    manual: true
    deployers: [alice]
    steps: [{ name: Deploy, run: ./deploy.sh }]
rules:
  - name: main
    on: { push: { branches: [main] } }
    run: [test, deploy, deploy-production]
  - name: pull requests
    on: { pull_request: {} }
    run: [test]
`);

const flow = useFlowStore("check-request-test");
let deliveries = 0;
let commits = 0;

const deps = (): CheckRequestDeps => ({
  config: () => CONFIG,
  octokitFor: async () => testOctokit() as unknown as OctokitLike,
  store: flow.t.store,
  approveRuns: (repo, pr, sha) => flow.t.store.approveRuns(repo, pr, sha),
  report: (r) => flow.reported.push(r),
  logger: { warn() {} },
});

const newSha = () => `${(++commits).toString(16).padStart(6, "0")}${"c".repeat(34)}`;

/** A check run or suite request as GitHub sends it, normalised at the edge as the router does. */
function request(
  name: "check_run" | "check_suite",
  action: string,
  fields: { sha: string; runId?: string; login?: string; identifier?: string; id?: string },
): CheckRequest {
  deliveries += 1;
  const subject = {
    id: 5000 + deliveries,
    head_sha: fields.sha,
    ...(name === "check_run" ? { external_id: fields.runId, name: "deploy-bot/x", pull_requests: [] } : {}),
    app: { id: Number(APP_ID), slug: "deploy-bot" },
  };
  const parsed = normaliseCheckRequest(
    name,
    fields.id ?? `check-delivery-${deliveries}`,
    {
      action,
      [name]: subject,
      ...(fields.identifier ? { requested_action: { identifier: fields.identifier } } : {}),
      repository: {
        name: "Hello-World",
        full_name: "Codertocat/Hello-World",
        owner: { login: "Codertocat" },
        clone_url: "https://github.com/Codertocat/Hello-World.git",
        private: false,
      },
      installation: { id: 1 },
      sender: { login: fields.login ?? "alice", type: "User" },
    },
    APP_ID,
  );
  if (isIgnored(parsed)) throw new Error(parsed.reason);
  return parsed;
}

/** A click on a check run's button. */
const button = (identifier: string, sha: string, runId: string, login?: string) =>
  request("check_run", "requested_action", { sha, runId, identifier, ...(login ? { login } : {}) });

const permission = (user: string, level: string) =>
  nock(API)
    .get(`${REPO}/collaborators/${user}/permission`)
    .reply(200, { permission: level, role_name: level, user: { login: user } });

const feedbackOf = async (deliveryId: string) =>
  (
    await flow.t.db.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM outbox WHERE topic = $1 AND key = $2",
      [COMMAND_FEEDBACK_TOPIC, deliveryId],
    )
  ).map((row) => row.payload);

/** A push to main at a new commit whose test failed: deploy and deploy-production were skipped. */
async function failedPush(): Promise<{
  event: DeployEvent;
  test: string;
  deploy: string;
  production: string;
}> {
  const event = pushEvent({ repo: HELLO, sha: newSha() });
  const accepted = await flow.t.store.acceptDelivery(
    delivery(event, [
      run("test"),
      run("deploy", { needs: ["test"], environment: "staging" }),
      run("deploy-production", { needs: ["deploy"], environment: "production", manual: true }),
    ]),
  );
  const [test, deploy, production] = accepted.runs.map((r) => r.id) as [string, string, string];
  expect((await flow.claimable()).map((r) => r.id)).toEqual([test]);
  await flow.t.store.finishRun(test, { state: "failed", detail: "Unit tests exited with 1" });
  const states = (await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).map((r) => [r.pipeline, r.state]);
  expect(states).toEqual([
    ["test", "failed"],
    ["deploy", "skipped"],
    ["deploy-production", "skipped"],
  ]);
  return { event, test, deploy, production };
}

/** A push to main whose test and deploy passed: deploy-production waits for its Deploy button. */
async function waitingPush(): Promise<{ event: DeployEvent; production: string }> {
  const event = pushEvent({ repo: HELLO, sha: newSha() });
  const accepted = await flow.t.store.acceptDelivery(
    delivery(event, [
      run("test"),
      run("deploy", { needs: ["test"], environment: "staging" }),
      run("deploy-production", { needs: ["deploy"], environment: "production", manual: true }),
    ]),
  );
  for (let left = await flow.claimable(); left.length > 0; left = await flow.claimable())
    for (const r of left) await flow.t.store.finishRun(r.id, { state: "passed", detail: "ok" });
  const production = accepted.runs[2]?.id as string;
  expect((await flow.t.store.getRun(production))?.state).toBe("waiting");
  return { event, production };
}

describe("Re-run", () => {
  it("re-runs a failed test at the same SHA with the deploys its failure skipped, once", async () => {
    const { event, test } = await failedPush();
    const scope = permission("alice", "write");
    const rerun = request("check_run", "rerequested", { sha: event.sha, runId: test });
    const result = await runCheckRequest(deps(), rerun);
    expect(result).toMatchObject({
      outcome: "accepted",
      summary: `run test, deploy, deploy-production again at ${event.sha.slice(0, 7)}`,
    });
    expect(scope.isDone()).toBe(true);
    const again = await flow.t.store.runsForDelivery(rerun.deliveryId);
    expect(again.map((r) => [r.pipeline, r.state, r.needs, r.event.sha, r.event.kind])).toEqual([
      ["test", "queued", [], event.sha, "push"],
      ["deploy", "queued", ["test"], event.sha, "push"],
      ["deploy-production", "queued", ["deploy"], event.sha, "push"],
    ]);
    expect(again[0]?.event.sender).toBe("alice");
    expect(flow.reported.map((r) => r.id)).toEqual(again.map((r) => r.id));
    // Only test starts; deploy follows it, and production waits for its button once deploy passed.
    const [first] = await flow.claimable();
    expect(first?.id).toBe(again[0]?.id);
    await flow.t.store.finishRun(first!.id, { state: "passed", detail: "ok" });
    const [second] = await flow.claimable();
    expect(second?.id).toBe(again[1]?.id);
    const finished = await flow.t.store.finishRun(second!.id, { state: "passed", detail: "ok" });
    expect(finished.changed.map((r) => [r.pipeline, r.state])).toEqual([["deploy-production", "waiting"]]);
    // The old runs stay as history.
    expect((await flow.t.store.getRun(test))?.state).toBe("failed");
    // A push has no pull request: no comment to write.
    expect(await feedbackOf(rerun.deliveryId)).toEqual([]);
    expect(await flow.t.store.getDelivery(rerun.deliveryId)).toMatchObject({
      eventName: "check_run",
      outcome: "planned",
      reason: `Re-run: run test, deploy, deploy-production again at ${event.sha.slice(0, 7)}`,
    });

    // GitHub redelivers it: nothing more runs, and GitHub is not asked again.
    expect(await runCheckRequest(deps(), rerun)).toEqual({ outcome: "duplicate" });
    expect(await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).toHaveLength(6);
    expect(flow.unmatched).toEqual([]);
  });

  it("a user with read access is refused: nothing runs, the refusal is recorded once", async () => {
    const { event, test } = await failedPush();
    const scope = permission("reader", "read");
    const rerun = request("check_run", "rerequested", { sha: event.sha, runId: test, login: "reader" });
    expect(await runCheckRequest(deps(), rerun)).toEqual({
      outcome: "refused",
      reason: "@reader has read access; Re-run needs write access",
    });
    expect(scope.isDone()).toBe(true);
    expect(await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).toHaveLength(3);
    expect(await flow.claimable()).toEqual([]);
    expect(await flow.t.store.getDelivery(rerun.deliveryId)).toMatchObject({
      outcome: "ignored",
      reason: "Re-run: @reader has read access; Re-run needs write access",
    });
    expect(await runCheckRequest(deps(), rerun)).toEqual({ outcome: "duplicate" });
  });

  it("a check run naming a run of another repository, or another commit, is refused without asking GitHub", async () => {
    const other = pushEvent({ sha: newSha() });
    const [foreign] = (await flow.t.store.acceptDelivery(delivery(other, [run("test")]))).runs;
    for (const r of await flow.claimable())
      await flow.t.store.finishRun(r.id, { state: "failed", detail: "no" });
    const { event, test } = await failedPush();
    for (const forged of [
      request("check_run", "rerequested", { sha: other.sha, runId: foreign!.id }),
      request("check_run", "rerequested", { sha: newSha(), runId: test }),
      request("check_run", "rerequested", { sha: event.sha, runId: "no-such-run-id-at-all" }),
    ])
      expect(await runCheckRequest(deps(), forged)).toEqual({
        outcome: "refused",
        reason: `the check run names no deploy-bot run of Codertocat/Hello-World at ${forged.sha.slice(0, 7)}`,
      });
    expect(flow.unmatched).toEqual([]);
    expect(await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).toHaveLength(3);
  });

  it("GitHub failing to answer the permission is the bot's error: nothing runs", async () => {
    const { event, test } = await failedPush();
    const scope = nock(API)
      .get(`${REPO}/collaborators/alice/permission`)
      .reply(500, { message: "Server Error" });
    const rerun = request("check_run", "rerequested", { sha: event.sha, runId: test });
    expect(await runCheckRequest(deps(), rerun)).toEqual({
      outcome: "refused",
      reason: "the bot could not check it with GitHub (500); click again",
    });
    expect(scope.isDone()).toBe(true);
    expect(await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).toHaveLength(3);
  });

  it("Re-run all checks runs every pipeline of the commit again; refused while one still runs", async () => {
    const { event } = await failedPush();
    permission("alice", "admin");
    const all = request("check_suite", "rerequested", { sha: event.sha });
    expect(await runCheckRequest(deps(), all)).toMatchObject({
      outcome: "accepted",
      summary: `run test, deploy, deploy-production again at ${event.sha.slice(0, 7)}`,
    });
    expect(await flow.t.store.getDelivery(all.deliveryId)).toMatchObject({ eventName: "check_suite" });
    const [running] = await flow.claimable();
    expect(running?.pipeline).toBe("test");
    const scope = permission("alice", "admin");
    const again = request("check_suite", "rerequested", { sha: event.sha });
    expect(await runCheckRequest(deps(), again)).toEqual({
      outcome: "refused",
      reason: `test, deploy, deploy-production are still queued or running at ${event.sha.slice(0, 7)}`,
    });
    expect(scope.isDone()).toBe(true);
    // A commit deploy-bot ran nothing at.
    const none = request("check_suite", "rerequested", { sha: newSha() });
    expect(await runCheckRequest(deps(), none)).toEqual({
      outcome: "refused",
      reason: `deploy-bot ran nothing at ${none.sha.slice(0, 7)} in Codertocat/Hello-World`,
    });
  });
});

describe("buttons", () => {
  it("Deploy on a waiting manual run: a reader is refused, a deployer starts it, a second click starts nothing", async () => {
    const { event, production } = await waitingPush();
    const reader = permission("reader", "read");
    const refused = button("deploy", event.sha, production, "reader");
    expect(await runCheckRequest(deps(), refused)).toEqual({
      outcome: "refused",
      reason: "@reader has read access; Deploy button needs write access",
    });
    expect(reader.isDone()).toBe(true);
    expect((await flow.t.store.getRun(production))?.state).toBe("waiting");

    // Write access is not enough where the pipeline names its deployers.
    permission("bob", "write");
    const bob = button("deploy", event.sha, production, "bob");
    expect(await runCheckRequest(deps(), bob)).toEqual({
      outcome: "refused",
      reason: "only alice may deploy deploy-production",
    });
    expect((await flow.t.store.getRun(production))?.state).toBe("waiting");

    permission("alice", "write");
    const click = button("deploy", event.sha, production);
    expect(await runCheckRequest(deps(), click)).toMatchObject({
      outcome: "accepted",
      summary: `deploy deploy-production to production at ${event.sha.slice(0, 7)}`,
    });
    expect((await flow.claimable()).map((r) => r.id)).toEqual([production]);
    expect(flow.reported.map((r) => [r.id, r.state])).toEqual([[production, "queued"]]);

    permission("alice", "write");
    const twice = button("deploy", event.sha, production);
    expect(await runCheckRequest(deps(), twice)).toEqual({
      outcome: "refused",
      reason: `deploy-production at ${event.sha.slice(0, 7)} is not waiting to be deployed (it is running)`,
    });
    expect(await flow.t.store.runsAtSha(HELLO.fullName, event.sha)).toHaveLength(3);
    expect(flow.unmatched).toEqual([]);
  });

  it("Approve on a fork's run: a writer releases exactly that commit, and the PR's comment says so", async () => {
    const event = pullRequestEvent({ repo: HELLO, sha: newSha(), prNumber: 31 });
    const accepted = await flow.t.store.acceptDelivery(
      delivery(event, [run("test", { initialState: "awaiting_approval" })]),
    );
    const [waiting] = accepted.runs;
    permission("alice", "maintain");
    const click = button("approve", event.sha, waiting!.id);
    expect(await runCheckRequest(deps(), click)).toMatchObject({
      outcome: "accepted",
      summary: `approved 1 run at ${event.sha.slice(0, 7)}`,
    });
    expect((await flow.claimable()).map((r) => r.id)).toEqual([waiting!.id]);
    expect(await feedbackOf(click.deliveryId)).toEqual([
      {
        installationId: 1,
        owner: "Codertocat",
        repo: "Hello-World",
        issueNumber: 31,
        commentId: null,
        reaction: "rocket",
        note: `🚀 Approve button by @\u200balice: approved 1 run at ${event.sha.slice(0, 7)}.`,
        deliveryId: event.deliveryId,
      },
    ]);

    // The note reaches the PR's one comment; there is no comment to react to.
    const [payload] = await feedbackOf(click.deliveryId);
    const posted: string[] = [];
    const comment = nock(API)
      .get(`${REPO}/issues/31/comments`)
      .query(true)
      .reply(200, [])
      .post(`${REPO}/issues/31/comments`, (body: { body: string }) => {
        posted.push(body.body);
        return true;
      })
      .reply(201, { id: 8 });
    const handler = commandFeedbackHandler({
      octokitFor: async () => testOctokit() as unknown as OctokitLike,
      runsForDelivery: (id) => flow.t.store.runsForDelivery(id),
      latestRunsOn: (repo, n) => flow.t.store.latestRunsOn(repo, n),
      comments: createCommentUpserter(),
      runUrl: (id) => `https://bot.example/runs/${id}`,
    });
    const message = { id: "1", topic: COMMAND_FEEDBACK_TOPIC, key: click.deliveryId, attempts: 0 };
    expect(await handler({ ...message, payload, createdAt: new Date() })).toEqual({ ok: true });
    expect(comment.isDone()).toBe(true);
    expect(posted[0]).toContain(`[details](https://bot.example/runs/${waiting!.id}) |`);
    expect(posted[0]).toContain(
      `🚀 Approve button by @\u200balice: approved 1 run at ${event.sha.slice(0, 7)}.`,
    );
    expect(flow.unmatched).toEqual([]);

    // A Re-run of the fork's code waits for approval again.
    await flow.t.store.finishRun(waiting!.id, { state: "failed", detail: "Unit tests exited with 1" });
    permission("alice", "write");
    const rerun = request("check_run", "rerequested", { sha: event.sha, runId: waiting!.id });
    await runCheckRequest(deps(), rerun);
    expect((await flow.t.store.runsForDelivery(rerun.deliveryId)).map((r) => r.state)).toEqual([
      "awaiting_approval",
    ]);
    expect(await flow.claimable()).toEqual([]);
    expect(await feedbackOf(rerun.deliveryId)).toMatchObject([
      {
        issueNumber: 31,
        note: `🔁 Re-run by @\u200balice: run test again at ${event.sha.slice(0, 7)}.`,
        deliveryId: rerun.deliveryId,
      },
    ]);

    // A button this run does not have.
    permission("alice", "write");
    const bogus = button("deploy", event.sha, waiting!.id);
    expect(await runCheckRequest(deps(), bogus)).toEqual({
      outcome: "refused",
      reason: `test at ${event.sha.slice(0, 7)} is not waiting to be deployed (it is failed)`,
    });
  });
});
