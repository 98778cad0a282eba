/**
 * Keeps exactly one bot comment per pull request: found by its hidden marker, created once, edited in place.
 * All writes for one PR go through an in-process promise chain, and the marker is looked up again (inside
 * the chain) before creating, so two racing updates can never create two comments.
 */
import type { OctokitLike } from "./octokit-like.ts";
import { COMMENT_MARKER } from "./render-comment.ts";

export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

export type UpsertOutcome = "created" | "updated" | "unchanged";

export interface CommentUpserter {
  /** Creates or edits the PR's bot comment so it reads `body`; rejects with the Octokit error on failure. */
  upsert(octokit: OctokitLike, pr: PullRequestRef, body: string): Promise<UpsertOutcome>;
}

/** A comment is ours if it starts with the marker and was written by an app (a user may quote the marker). */
function isOurs(comment: { body?: string | undefined; user?: { type?: string } | null }): boolean {
  return (comment.body ?? "").startsWith(COMMENT_MARKER) && comment.user?.type === "Bot";
}

/** One upserter per process: it caches comment ids (per repo + PR) and the body last written. */
export function createCommentUpserter(): CommentUpserter {
  const known = new Map<string, { id: number; body: string | undefined }>();
  const chains = new Map<string, Promise<unknown>>();

  async function find(octokit: OctokitLike, pr: PullRequestRef): Promise<number | undefined> {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      per_page: 100,
    });
    return comments.find(isOurs)?.id;
  }

  async function write(
    octokit: OctokitLike,
    pr: PullRequestRef,
    key: string,
    body: string,
  ): Promise<UpsertOutcome> {
    const cached = known.get(key);
    if (cached?.body === body) return "unchanged";
    const id = cached?.id ?? (await find(octokit, pr));
    if (id !== undefined) {
      try {
        await octokit.rest.issues.updateComment({ owner: pr.owner, repo: pr.repo, comment_id: id, body });
        known.set(key, { id, body });
        return "updated";
      } catch (error) {
        // Deleted by someone: forget it and look again (another bot comment may exist) or create a new one.
        if ((error as { status?: number }).status !== 404 || cached === undefined) throw error;
        known.delete(key);
        return write(octokit, pr, key, body);
      }
    }
    const created = await octokit.rest.issues.createComment({
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      body,
    });
    known.set(key, { id: created.data.id, body });
    return "created";
  }

  return {
    upsert(octokit, pr, body) {
      const key = `${pr.owner}/${pr.repo}#${pr.number}`.toLowerCase();
      const previous = chains.get(key) ?? Promise.resolve();
      const next = previous.then(
        () => write(octokit, pr, key, body),
        () => write(octokit, pr, key, body),
      );
      const settled = next.catch(() => undefined);
      chains.set(key, settled);
      void settled.then(() => {
        if (chains.get(key) === settled) chains.delete(key);
      });
      return next;
    },
  };
}
