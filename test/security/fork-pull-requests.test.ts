/**
 * Issue 7, "Pull requests from forks": a fork's code does not run until a writer approves its exact head
 * SHA (permission read through the API, never from the payload), a new push needs a new approval, the
 * `forks:` rule setting is honoured, and fork runs never receive the pipeline's secrets.
 * Real store (PGlite + pg-boss), real git, real child processes; nock only for api.github.com.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { APPROVAL_COMMAND, APPROVAL_LABEL } from "../../src/events/approval.ts";
import { isIgnored } from "../../src/events/deploy-event.ts";
import { normaliseEvent } from "../../src/events/normalise.ts";
import { type ApproveDeps, approveFork, parseApprovalRequest } from "../../src/flow/approve-fork.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { fixture } from "../fixtures/fixtures.ts";
import {
  createBareRemote,
  createForkPullRequest,
  createRepo,
  git,
  removeTempDirs,
} from "../helpers/git-remote.ts";
import {
  API,
  acceptDelivery,
  acceptDepsFor,
  configOf,
  executeHarness,
  ignoredRecorded,
  jobIdOf,
  openTestStore,
  type TestStore,
  testOctokit,
  unmatchedRequests,
} from "./security-harness.ts";

const REPO = "/repos/Codertocat/Hello-World";
const PR = 2;
const SHA_1 = "1111111111111111111111111111111111111111";
const SHA_2 = "2222222222222222222222222222222222222222";

const yaml = (forks: "run" | "approve" | "never" | undefined) => `
version: 1
pipelines:
  test:
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: Show secret
        run: 'echo "secret=[\${DEPLOY_TOKEN:-}]"'
rules:
  - name: pull requests
    on:
      pull_request: {}
    run: [test]
${forks ? `    forks: ${forks}` : ""}
`;

// biome-ignore lint/suspicious/noExplicitAny: raw webhook payloads are edited freely here
type Payload = Record<string, any>;

/** The fork fixture (head repository octo-fork/Hello-World) at `sha`, as action `action`. */
function forkPayload(sha: string, action = "opened", labels: string[] = []): Payload {
  const p = fixture("pull_request.opened-fork") as Payload;
  p.action = action;
  p.pull_request.head.sha = sha;
  p.pull_request.labels = labels.map((name, i) => ({ id: i + 1, name }));
  return p;
}

/** The `labeled` delivery GitHub sends when `sender` adds the approval label at head `sha`. */
function labelPayload(sha: string, sender: string): Payload {
  const p = forkPayload(sha, "labeled", [APPROVAL_LABEL]);
  p.label = { id: 99, name: APPROVAL_LABEL };
  p.sender = { login: sender, type: "User" };
  return p;
}

/** The `issue_comment` delivery for `/deploy-bot approve` by `sender` (who the payload says is an OWNER). */
function commentPayload(sender: string, commentId: number): Payload {
  const base = fixture("pull_request.opened-fork") as Payload;
  return {
    action: "created",
    issue: { number: PR, pull_request: { url: `${API}${REPO}/pulls/${PR}` } },
    comment: {
      id: commentId,
      body: `${APPROVAL_COMMAND}\n`,
      user: { login: sender, type: "User" },
      author_association: "OWNER",
    },
    repository: base.repository,
    installation: base.installation,
    sender: { login: sender, type: "User", site_admin: true },
  };
}

let t: TestStore;
let unmatched: ReturnType<typeof unmatchedRequests>;
let deliveries = 0;

beforeAll(() => nock.disableNetConnect());
afterAll(async () => {
  nock.enableNetConnect();
  await removeTempDirs();
});
beforeEach(async () => {
  t = await openTestStore();
  unmatched = unmatchedRequests();
});
afterEach(async () => {
  unmatched.stop();
  nock.cleanAll();
  await t.close();
});

async function deliver(payload: Payload, forks?: "run" | "approve" | "never") {
  deliveries += 1;
  const id = `fork-delivery-${deliveries}`;
  const result = await acceptDelivery(acceptDepsFor(t.store, configOf(yaml(forks))), {
    id,
    name: "pull_request",
    payload,
  });
  return { id, result, runs: await t.store.runsForDelivery(id) };
}

function approveDeps(reported: RunRecord[] = []): ApproveDeps {
  return {
    octokitFor: async () => testOctokit(),
    approveRuns: (repo, pr, sha) => t.store.approveRuns(repo, pr, sha),
    report: (run) => reported.push(run),
  };
}

const permission = (user: string, level: string) =>
  nock(API)
    .get(`${REPO}/collaborators/${user}/permission`)
    .reply(200, { permission: level, user: { login: user } });

/** Runs the queue would hand to a worker right now. */
const claimable = async () => (await t.store.claimRuns("security-test-worker", 100)).runs;

describe("pull requests from forks", () => {
  // Guards: accept-delivery `startingRuns` (fork + forks: approve → `awaiting_approval`, not enqueued).
  it("records a fork pull request's runs as awaiting approval and queues nothing", async () => {
    const { result, runs } = await deliver(forkPayload(SHA_1));
    expect(result.outcome).toBe("accepted");
    expect(runs.map((run) => [run.pipeline, run.state, run.event.sha])).toEqual([
      ["test", "awaiting_approval", SHA_1],
    ]);
    expect(await jobIdOf(t.db, runs[0]!.id)).toBeNull();
    expect(await claimable()).toEqual([]);
    expect(unmatched.list).toEqual([]);
  });

  // Guards: the fork flag itself (normalise-pull-request: a deleted head repository is untrusted, a fork).
  it("treats a pull request whose head repository was deleted as a fork", async () => {
    const payload = forkPayload(SHA_1);
    payload.pull_request.head.repo = null;
    const { runs } = await deliver(payload);
    expect(runs.map((run) => run.state)).toEqual(["awaiting_approval"]);
    expect(await claimable()).toEqual([]);
  });

  // Guards: approve-fork step 1 (permission from GET …/collaborators/{user}/permission, only admin/write),
  // not the payload's `author_association: OWNER`.
  it("refuses an approval label added by a user with read access, and the runs keep waiting", async () => {
    const { runs } = await deliver(forkPayload(SHA_1));
    const scope = permission("reader", "read");
    const request = parseApprovalRequest("pull_request", labelPayload(SHA_1, "reader"));
    expect(request).toMatchObject({ via: "label", sender: "reader", headSha: SHA_1 });
    const result = await approveFork(approveDeps(), request!);
    expect(result).toEqual({ outcome: "refused", reason: "reader has read access, not write" });
    expect((await t.store.getRun(runs[0]!.id))?.state).toBe("awaiting_approval");
    expect(await claimable()).toEqual([]);
    expect(scope.isDone()).toBe(true);
    expect(unmatched.list).toEqual([]); // in particular: the label was not removed
  });

  // Guards: approve-fork step 1 for the comment path (the payload says OWNER and site_admin; the API says read).
  it("refuses `/deploy-bot approve` from a read-only user whose payload claims OWNER", async () => {
    const { runs } = await deliver(forkPayload(SHA_1));
    const scope = permission("reader", "read")
      .post(`${REPO}/issues/comments/501/reactions`, { content: "eyes" })
      .reply(201, {})
      .post(`${REPO}/issues/comments/501/reactions`, { content: "confused" })
      .reply(201, {});
    const request = parseApprovalRequest("issue_comment", commentPayload("reader", 501));
    const result = await approveFork(approveDeps(), request!);
    expect(result.outcome).toBe("refused");
    expect((await t.store.getRun(runs[0]!.id))?.state).toBe("awaiting_approval");
    expect(await claimable()).toEqual([]);
    expect(scope.isDone()).toBe(true);
    expect(unmatched.list).toEqual([]);
  });

  // Guards: approval by a writer via the label releases exactly the labelled SHA's runs (store.approveRuns
  // matches repo + PR + sha) and removes the label so the next push needs a new one.
  it("queues the runs of exactly the labelled SHA when a writer adds the label, and removes the label", async () => {
    const first = await deliver(forkPayload(SHA_1));
    // Another pull request's fork run at the same SHA must not be released by this approval.
    const otherPayload = forkPayload(SHA_1);
    otherPayload.number = 3;
    otherPayload.pull_request.number = 3;
    const other = await deliver(otherPayload);
    const scope = permission("writer", "write")
      .delete(`${REPO}/issues/${PR}/labels/${encodeURIComponent(APPROVAL_LABEL)}`)
      .reply(200, []);
    const reported: RunRecord[] = [];
    const result = await approveFork(
      approveDeps(reported),
      parseApprovalRequest("pull_request", labelPayload(SHA_1, "writer"))!,
    );
    expect(result.outcome).toBe("approved");
    expect(result).toMatchObject({ sha: SHA_1 });
    const approved = await t.store.getRun(first.runs[0]!.id);
    expect(approved?.state).toBe("queued");
    expect(reported.map((run) => run.id)).toEqual([approved?.id]);
    expect((await claimable()).map((run) => [run.id, run.event.sha])).toEqual([[approved?.id, SHA_1]]);
    expect((await t.store.getRun(other.runs[0]!.id))?.state).toBe("awaiting_approval");
    expect(scope.isDone()).toBe(true);
    expect(unmatched.list).toEqual([]);
  });

  // Guards: the comment path reads the head SHA through the API (pulls.get), approves only that SHA, and
  // acknowledges with a reaction.
  it("queues the runs at the API's head SHA when a writer comments `/deploy-bot approve`", async () => {
    const old = await deliver(forkPayload(SHA_1));
    const current = await deliver(forkPayload(SHA_2, "synchronize"));
    expect((await t.store.getRun(old.runs[0]!.id))?.state).toBe("superseded");
    const scope = permission("writer", "admin")
      .get(`${REPO}/pulls/${PR}`)
      .reply(200, { number: PR, head: { sha: SHA_2 } })
      .post(`${REPO}/issues/comments/502/reactions`, { content: "eyes" })
      .reply(201, {})
      .post(`${REPO}/issues/comments/502/reactions`, { content: "rocket" })
      .reply(201, {});
    const result = await approveFork(
      approveDeps(),
      parseApprovalRequest("issue_comment", commentPayload("writer", 502))!,
    );
    expect(result).toMatchObject({ outcome: "approved", sha: SHA_2 });
    expect((await claimable()).map((run) => [run.id, run.event.sha])).toEqual([[current.runs[0]!.id, SHA_2]]);
    expect(scope.isDone()).toBe(true);
    expect(unmatched.list).toEqual([]);
  });

  // Guards: "approval covers exactly the approved head SHA": a new push creates runs that wait again, even
  // when the synchronize payload still shows the approval label (its removal failed or raced).
  it("makes the runs of a new push wait again after an approval", async () => {
    await deliver(forkPayload(SHA_1));
    const scope = permission("writer", "write")
      .delete(`${REPO}/issues/${PR}/labels/${encodeURIComponent(APPROVAL_LABEL)}`)
      .reply(500, { message: "label removal failed" });
    const approval = await approveFork(
      approveDeps(),
      parseApprovalRequest("pull_request", labelPayload(SHA_1, "writer"))!,
    );
    expect(approval.outcome).toBe("approved");
    expect(scope.isDone()).toBe(true);

    const push = await deliver(forkPayload(SHA_2, "synchronize", [APPROVAL_LABEL]));
    expect(push.runs.map((run) => [run.state, run.event.sha])).toEqual([["awaiting_approval", SHA_2]]);
    expect(await jobIdOf(t.db, push.runs[0]!.id)).toBeNull();
    expect((await claimable()).map((run) => run.event.sha)).not.toContain(SHA_2);

    // A late (redelivered) label event for the old SHA does not release the new push either.
    const late = permission("writer", "write")
      .delete(`${REPO}/issues/${PR}/labels/${encodeURIComponent(APPROVAL_LABEL)}`)
      .reply(200, []);
    const stale = await approveFork(
      approveDeps(),
      parseApprovalRequest("pull_request", labelPayload(SHA_1, "writer"))!,
    );
    expect(stale).toMatchObject({ outcome: "approved", sha: SHA_1, runs: [] });
    expect((await t.store.getRun(push.runs[0]!.id))?.state).toBe("awaiting_approval");
    expect(await claimable()).toEqual([]);
    expect(late.isDone()).toBe(true);
    expect(unmatched.list).toEqual([]);
  });

  // Guards: accept-delivery honours `forks: run` (queued at once, the operator's explicit choice).
  it("queues a fork pull request at once when its rule says `forks: run`", async () => {
    const { runs } = await deliver(forkPayload(SHA_1), "run");
    expect(runs.map((run) => run.state)).toEqual(["queued"]);
    expect(await jobIdOf(t.db, runs[0]!.id)).not.toBeNull();
    expect((await claimable()).map((run) => run.id)).toEqual([runs[0]!.id]);
  });

  // Guards: accept-delivery drops fork runs when the rule says `forks: never` (recorded as ignored, no run).
  it("records no run for a fork pull request when its rule says `forks: never`", async () => {
    const { id, result, runs } = await deliver(forkPayload(SHA_1), "never");
    expect(result.outcome).toBe("ignored");
    expect(runs).toEqual([]);
    await ignoredRecorded();
    expect(await t.store.getDelivery(id)).toMatchObject({ outcome: "ignored" });
    expect(await claimable()).toEqual([]);
  });

  // Guards: execute-run step 2 (`if (!event.fork)`: fork runs get no declared secrets, even with `forks: run`),
  // and the masking of secrets a same-repository run does get.
  it("gives a fork run none of the pipeline's secrets, and a same-repository run its secrets masked", async () => {
    const base = await createRepo();
    const remote = await createBareRemote(base);
    const fork = await createForkPullRequest(remote, PR, { "fork.txt": "untrusted\n" });
    const sameSha = await base.commit({ "feature.txt": "trusted\n" });
    await git(base.dir, "push", "--quiet", "origin", `HEAD:refs/pull/${PR + 1}/head`);

    const DEPLOY_TOKEN = "deploy-token-VALUE-7c1e9a";
    const serverEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C", DEPLOY_TOKEN };
    const config = configOf(yaml("run"));
    const exec = executeHarness(t);
    const local = (run: RunRecord): RunRecord => ({
      ...run,
      event: { ...run.event, repo: { ...run.event.repo, cloneUrl: remote.fileUrl } },
    });

    const forkRun = (await deliver(forkPayload(fork.sha), "run")).runs[0]!;
    expect(forkRun.event.fork).toBe(true);
    const forkResult = await exec.execute(local(forkRun), { config, serverEnv });
    expect(forkResult.outcome.state).toBe("passed");
    expect(forkResult.log).toContain("secret=[]\n");
    expect(forkResult.log).not.toContain(DEPLOY_TOKEN);
    expect(forkResult.log).not.toContain("***");

    const same = fixture("pull_request.opened") as Payload;
    same.number = PR + 1;
    same.pull_request.number = PR + 1;
    same.pull_request.head.sha = sameSha;
    const sameRun = (
      await acceptDelivery(acceptDepsFor(t.store, config), {
        id: "same-repo-delivery",
        name: "pull_request",
        payload: same,
      })
    ).outcome;
    expect(sameRun).toBe("accepted");
    const sameRecord = (await t.store.runsForDelivery("same-repo-delivery"))[0]!;
    const event = normaliseEvent("pull_request", "x", same);
    expect(!isIgnored(event) && event.kind === "pull_request" && event.fork).toBe(false);
    const sameResult = await exec.execute(local(sameRecord), { config, serverEnv });
    expect(sameResult.outcome.state).toBe("passed");
    expect(sameResult.log).toContain("secret=[***]\n");
    expect(sameResult.log).not.toContain(DEPLOY_TOKEN);
  });
});
