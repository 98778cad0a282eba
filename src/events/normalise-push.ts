/** `push` webhook payload → `PushEvent`, or `Ignored` with the reason (deletions, odd refs, bad payloads). */
import { type ChangedFiles, type Ignored, ignored, type PushEvent, ZERO_SHA } from "./deploy-event.ts";
import {
  arr,
  bool,
  ignoringMalformed,
  installationId,
  isObject,
  MalformedPayload,
  repoRef,
  senderLogin,
  sha,
  str,
} from "./normalise-fields.ts";
import { refNameProblem } from "./normalise-ref-name.ts";
import type { WebhookPayload } from "./webhook-events.ts";

type Push = WebhookPayload<"push">;
type Commit = Push["commits"][number];

/** GitHub puts at most this many commits in a push payload; a list this long may be truncated. */
export const PUSH_COMMITS_LIMIT = 2048;

/**
 * Normalises a push. Changed files are the union of the commits' added/modified/removed lists, and are
 * "unknown" whenever the payload cannot show every change: a new ref (`before` is the zero SHA), a forced
 * push (the old commits are gone, the payload only lists the new ones), a commit list at GitHub's limit, or
 * no commits although the ref moved.
 */
export function normalisePush(deliveryId: string, payload: unknown): PushEvent | Ignored {
  return ignoringMalformed(() => readPush(deliveryId, payload));
}

function readPush(deliveryId: string, payload: unknown): PushEvent | Ignored {
  if (!isObject(payload)) throw new MalformedPayload("the payload is not a JSON object");
  const ref = str<Push>(payload, "ref", "ref");
  const branchName = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
  const tagName = ref.startsWith("refs/tags/") ? ref.slice("refs/tags/".length) : undefined;
  const kind = branchName !== undefined ? "branch" : "tag";
  const name = branchName ?? tagName;
  if (name === undefined)
    return ignored(`push to ${JSON.stringify(ref)}, which is neither a branch nor a tag`);
  const problem = refNameProblem(name);
  if (problem) return ignored(`${kind} name ${JSON.stringify(name)} ${problem}`);
  const repo = repoRef(payload);
  if (bool<Push>(payload, "deleted", false) || payload.after === ZERO_SHA) {
    return ignored(`${kind} "${name}" was deleted`);
  }
  const before = sha<Push>(payload, "before", "before");
  const after = sha<Push>(payload, "after", "after");
  return {
    kind: "push",
    action: "push",
    deliveryId,
    repo,
    installationId: installationId(payload),
    sha: after,
    ref,
    branch: branchName,
    tag: tagName,
    before,
    fork: false,
    changedFiles: pushChangedFiles(payload, kind, before, after),
    sender: senderLogin(payload),
  };
}

function pushChangedFiles(
  payload: Record<string, unknown>,
  kind: string,
  before: string,
  after: string,
): ChangedFiles {
  const commits = arr<Push>(payload, "commits", "commits");
  if (before === ZERO_SHA) return { known: false, reason: `new ${kind}` };
  if (bool<Push>(payload, "forced", false)) return { known: false, reason: "forced push" };
  if (commits.length >= PUSH_COMMITS_LIMIT) {
    return { known: false, reason: `${commits.length} commits: GitHub lists at most ${PUSH_COMMITS_LIMIT}` };
  }
  if (commits.length === 0 && before !== after) return { known: false, reason: "no commits in the payload" };
  const files = new Set<string>();
  commits.forEach((commit, i) => {
    for (const key of ["added", "modified", "removed"] as const) {
      if (!isObject(commit)) throw new MalformedPayload(`commits[${i}] is not an object`);
      for (const file of arr<Commit>(commit, key, `commits[${i}].${key}`)) {
        if (typeof file !== "string") throw new MalformedPayload(`commits[${i}].${key} holds a non-string`);
        files.add(file);
      }
    }
  });
  return { known: true, files: [...files] };
}
