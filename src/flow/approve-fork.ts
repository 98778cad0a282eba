/**
 * Approval of a fork pull request's runs. Code from a fork does not run until a user with write access to
 * the base repository approves its exact head commit, by adding the label `deploy-bot:approved` or by
 * commenting `/deploy-bot approve`. The permission is checked through the API — never trusted from the
 * payload — and the approval covers only that SHA: a new push creates new runs that wait again.
 */
import { APPROVAL_COMMAND, APPROVAL_LABEL } from "../events/approval.ts";
import { int, MalformedPayload, obj, optionalObj, sha, str } from "../events/normalise-fields.ts";
import { canWrite } from "../runs/command-decisions.ts";
import type { RunRecord } from "../runs/run.ts";

export interface ApprovalRequest {
  readonly owner: string;
  readonly repo: string;
  readonly prNumber: number;
  readonly installationId: number;
  /** Login of the user who labelled or commented. */
  readonly sender: string;
  readonly via: "label" | "comment";
  /** Head SHA at the time of labelling; a comment does not carry it, so it is read through the API. */
  readonly headSha: string | undefined;
  readonly commentId: number | undefined;
}

/** Recognises an approval in a webhook (pure). Anything else, including a malformed payload, is `undefined`. */
export function parseApprovalRequest(name: string, payload: unknown): ApprovalRequest | undefined {
  try {
    const p = obj({ payload }, "payload", "payload");
    const action = optionalStr(p, "action");
    const owner = str(
      obj(obj(p, "repository", "repository"), "owner", "repository.owner"),
      "login",
      "owner.login",
    );
    const repo = str(obj(p, "repository", "repository"), "name", "repository.name");
    const installationId = int(obj(p, "installation", "installation"), "id", "installation.id");
    const sender = str(obj(p, "sender", "sender"), "login", "sender.login");
    const base = { owner, repo, installationId, sender };
    if (name === "pull_request" && action === "labeled") {
      if (optionalStr(optionalObj(p, "label") ?? {}, "name") !== APPROVAL_LABEL) return undefined;
      const pr = obj(p, "pull_request", "pull_request");
      const headSha = sha(obj(pr, "head", "pull_request.head"), "sha", "pull_request.head.sha");
      return {
        ...base,
        prNumber: int(pr, "number", "pull_request.number"),
        via: "label",
        headSha,
        commentId: undefined,
      };
    }
    if (name === "issue_comment" && action === "created") {
      const issue = obj(p, "issue", "issue");
      const comment = obj(p, "comment", "comment");
      if (!optionalObj(issue, "pull_request")) return undefined;
      if (optionalStr(optionalObj(comment, "user") ?? {}, "type") === "Bot") return undefined;
      if (optionalStr(comment, "body")?.trim().split("\n")[0]?.trim() !== APPROVAL_COMMAND) return undefined;
      const commentId = int(comment, "id", "comment.id");
      return {
        ...base,
        prNumber: int(issue, "number", "issue.number"),
        via: "comment",
        headSha: undefined,
        commentId,
      };
    }
    return undefined;
  } catch (error) {
    if (error instanceof MalformedPayload) return undefined;
    throw error;
  }
}

const optionalStr = (parent: Record<string, unknown>, key: string): string | undefined =>
  typeof parent[key] === "string" ? parent[key] : undefined;

/** The few GitHub calls an approval makes, typed structurally so a plain Octokit fits. */
export interface ApprovalOctokit {
  rest: {
    repos: {
      getCollaboratorPermissionLevel(params: { owner: string; repo: string; username: string }): Promise<{
        data: { permission: string; role_name?: string };
      }>;
    };
    pulls: {
      get(params: {
        owner: string;
        repo: string;
        pull_number: number;
      }): Promise<{ data: { head: { sha: string } } }>;
    };
    issues: {
      removeLabel(params: {
        owner: string;
        repo: string;
        issue_number: number;
        name: string;
      }): Promise<unknown>;
    };
    reactions: {
      createForIssueComment(params: {
        owner: string;
        repo: string;
        comment_id: number;
        content: "eyes" | "rocket" | "confused";
      }): Promise<unknown>;
    };
  };
}

export interface ApproveDeps {
  readonly octokitFor: (installationId: number) => Promise<ApprovalOctokit>;
  /** Turns this PR's runs awaiting approval at exactly `sha` into queued runs and enqueues them. */
  readonly approveRuns: (repo: string, prNumber: number, sha: string) => Promise<RunRecord[]>;
  readonly report: (run: RunRecord) => void;
}

export type ApprovalResult =
  | { readonly outcome: "approved"; readonly sha: string; readonly runs: readonly RunRecord[] }
  | { readonly outcome: "refused"; readonly reason: string };

/** Checks the approver's permission and releases the runs waiting at the approved SHA. */
export async function approveFork(deps: ApproveDeps, request: ApprovalRequest): Promise<ApprovalResult> {
  const octokit = await deps.octokitFor(request.installationId);
  const { owner, repo, prNumber } = request;
  // A command comment is acknowledged at once, as every /deploy-bot command is.
  if (request.commentId !== undefined) {
    await octokit.rest.reactions
      .createForIssueComment({ owner, repo, comment_id: request.commentId, content: "eyes" })
      .catch(() => {});
  }

  // 1. The approver must have write access, as GitHub says now (the payload's author_association is not enough).
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
    owner,
    repo,
    username: request.sender,
  });
  if (!canWrite({ permission: data.permission, roleName: data.role_name })) {
    if (request.commentId !== undefined) {
      await octokit.rest.reactions
        .createForIssueComment({ owner, repo, comment_id: request.commentId, content: "confused" })
        .catch(() => {});
    }
    return { outcome: "refused", reason: `${request.sender} has ${data.permission} access, not write` };
  }

  // 2. The approval covers the head commit as it is now: labelled in the payload, or read for a comment.
  const sha =
    request.headSha ?? (await octokit.rest.pulls.get({ owner, repo, pull_number: prNumber })).data.head.sha;

  // 3. Release the runs waiting at that SHA and report them as queued.
  const runs = await deps.approveRuns(`${owner}/${repo}`, prNumber, sha);
  for (const run of runs) deps.report(run);

  // 4. Acknowledge; remove the label so that the next push needs a new approval.
  if (request.via === "label") {
    await octokit.rest.issues
      .removeLabel({ owner, repo, issue_number: prNumber, name: APPROVAL_LABEL })
      .catch(() => {});
  } else if (request.commentId !== undefined) {
    await octokit.rest.reactions
      .createForIssueComment({ owner, repo, comment_id: request.commentId, content: "rocket" })
      .catch(() => {});
  }
  return { outcome: "approved", sha, runs };
}
