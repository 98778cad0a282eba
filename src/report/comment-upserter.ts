/**
 * Keeps exactly one bot comment per pull request: found by its hidden marker, created once, edited in place.
 * The caller passes the comment id it last wrote (kept in the store); without one, the marker is looked up
 * before creating. All writes for one PR in this process go through a promise chain, so two racing updates
 * can never both create a comment: the second looks again and finds the first one's.
 */
import type { OctokitLike } from "./octokit-like.ts";
import { COMMENT_MARKER } from "./render-comment.ts";

export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

export type UpsertOutcome = "created" | "updated";

export interface CommentUpserter {
  /**
   * Creates or edits the PR's bot comment so it reads `body`; `knownId` is the comment last written (a 404 on
   * it means someone deleted it: look again, or create). Rejects with the Octokit error on failure.
   */
  upsert(
    octokit: OctokitLike,
    pr: PullRequestRef,
    body: string,
    knownId?: number,
  ): Promise<{ outcome: UpsertOutcome; id: number }>;
}

/** A comment is ours if it starts with the marker and was written by an app (a user may quote the marker). */
function isOurs(comment: { body?: string | undefined; user?: { type?: string } | null }): boolean {
  return (comment.body ?? "").startsWith(COMMENT_MARKER) && comment.user?.type === "Bot";
}

/** One upserter per process; it remembers nothing but the writes in flight. */
export function createCommentUpserter(): CommentUpserter {
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
    body: string,
    knownId: number | undefined,
  ): Promise<{ outcome: UpsertOutcome; id: number }> {
    const id = knownId ?? (await find(octokit, pr));
    if (id !== undefined) {
      try {
        await octokit.rest.issues.updateComment({ owner: pr.owner, repo: pr.repo, comment_id: id, body });
        return { outcome: "updated", id };
      } catch (error) {
        // Deleted by someone: look again (another bot comment may exist), or create a new one.
        if ((error as { status?: number }).status !== 404 || knownId === undefined) throw error;
        return write(octokit, pr, body, undefined);
      }
    }
    const created = await octokit.rest.issues.createComment({
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      body,
    });
    return { outcome: "created", id: created.data.id };
  }

  return {
    upsert(octokit, pr, body, knownId) {
      const key = `${pr.owner}/${pr.repo}#${pr.number}`.toLowerCase();
      const previous = chains.get(key) ?? Promise.resolve();
      const run = () => write(octokit, pr, body, knownId);
      const next = previous.then(run, run);
      const settled = next.catch(() => undefined);
      chains.set(key, settled);
      void settled.then(() => {
        if (chains.get(key) === settled) chains.delete(key);
      });
      return next;
    },
  };
}
