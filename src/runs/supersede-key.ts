/** Which runs count as "the same branch or PR" for superseding, and how a commit is abbreviated. */
import type { DeployEvent } from "../events/deploy-event.ts";

/**
 * What "the same branch or PR" means for superseding: a PR by number, a push by branch (or tag). A newer
 * event with the same key replaces older still-queued runs of the same repository and pipeline.
 */
export function supersedeKey(event: DeployEvent): string {
  if (event.kind === "pull_request") return `pr:${event.prNumber}`;
  if (event.branch !== undefined) return `branch:${event.branch}`;
  if (event.tag !== undefined) return `tag:${event.tag}`;
  return `ref:${event.ref}`;
}

/** The first 7 characters, as GitHub abbreviates commits. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
