/** `pull_request` webhook payload → `PullRequestEvent`, or `Ignored` with the reason. */
import { PULL_REQUEST_TYPES } from "../config/schema.ts";
import { type Ignored, ignored, type PullRequestEvent } from "./deploy-event.ts";
import {
  bool,
  ignoringMalformed,
  installationId,
  int,
  isObject,
  MalformedPayload,
  obj,
  optionalObj,
  repoRef,
  senderLogin,
  sha,
  str,
} from "./normalise-fields.ts";
import { refNameProblem } from "./normalise-ref-name.ts";
import type { WebhookPayload } from "./webhook-events.ts";

type Payload = WebhookPayload<"pull_request">;
type PullRequest = Payload["pull_request"];
type Head = PullRequest["head"];

/**
 * The `changedFiles.reason` of a freshly normalised pull request: its files are not in the payload and must
 * be listed through the API (`listPullRequestFiles`). Matching recognises it and asks for the files.
 */
export const PR_FILES_NOT_LISTED = "listed through the API";

/**
 * Normalises a pull request event. Actions that no rule can trigger on (see `PULL_REQUEST_TYPES`) and closed
 * pull requests are ignored; drafts are kept (rules decide with `drafts:`). The fork flag compares the head
 * repository with the base repository, so a deleted head repository counts as a fork (untrusted).
 */
export function normalisePullRequest(deliveryId: string, payload: unknown): PullRequestEvent | Ignored {
  return ignoringMalformed(() => readPullRequest(deliveryId, payload));
}

function readPullRequest(deliveryId: string, payload: unknown): PullRequestEvent | Ignored {
  if (!isObject(payload)) throw new MalformedPayload("the payload is not a JSON object");
  const action = str<Payload>(payload, "action", "action");
  const pr = obj<Payload>(payload, "pull_request", "pull_request");
  const number = int<Payload>(payload, "number", "number");
  if (action === "closed" || pr.state === "closed") return ignored(`pull request #${number} is closed`);
  if (!(PULL_REQUEST_TYPES as readonly string[]).includes(action)) {
    return ignored(`pull request action "${action}" never triggers a rule`);
  }
  const repo = repoRef(payload);
  const head = obj<PullRequest>(pr, "head", "pull_request.head");
  const base = obj<PullRequest>(pr, "base", "pull_request.base");
  const branch = str<Head>(head, "ref", "pull_request.head.ref");
  const baseBranch = str<PullRequest["base"]>(base, "ref", "pull_request.base.ref");
  for (const [what, name] of [
    ["head branch", branch],
    ["base branch", baseBranch],
  ] as const) {
    const problem = refNameProblem(name);
    if (problem) return ignored(`${what} name ${JSON.stringify(name)} ${problem}`);
  }
  const headRepo = optionalObj<Head>(head, "repo");
  const baseRepo = optionalObj<PullRequest["base"]>(base, "repo");
  const headRepoFullName =
    typeof headRepo?.full_name === "string" ? headRepo.full_name : "(deleted repository)";
  const sameRepo =
    headRepo !== undefined &&
    (typeof headRepo.id === "number" && typeof baseRepo?.id === "number"
      ? headRepo.id === baseRepo.id
      : headRepoFullName.toLowerCase() === repo.fullName.toLowerCase());
  const labels = Array.isArray(pr.labels) ? pr.labels : [];
  return {
    kind: "pull_request",
    action,
    deliveryId,
    repo,
    installationId: installationId(payload),
    sha: sha<Head>(head, "sha", "pull_request.head.sha"),
    ref: `refs/pull/${number}/head`,
    prNumber: number,
    branch,
    tag: undefined,
    baseBranch,
    title: typeof pr.title === "string" ? pr.title : "",
    draft: bool<PullRequest>(pr, "draft", false),
    fork: !sameRepo,
    headRepoFullName,
    labels: labels.flatMap((label) =>
      isObject(label) && typeof label.name === "string" ? [label.name] : [],
    ),
    changedFiles: { known: false, reason: PR_FILES_NOT_LISTED },
    sender: senderLogin(payload),
  };
}
