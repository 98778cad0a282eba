/**
 * What a `/deploy-bot` command tells its author, delivered from the outbox (recorded with the command, so it is
 * sent once the command is durable, and retried until GitHub takes it): `rocket` or `confused` on the comment,
 * and the bot's one comment on that issue or pull request — the runs it concerns with links, and the note
 * saying what was done or why it was refused.
 */
import type { Delivered, OutboxHandler } from "../outbox/drain-outbox.ts";
import type { StoredOutboxMessage } from "../outbox/outbox.ts";
import type { CommentUpserter } from "../report/comment-upserter.ts";
import { describeGitHubFailure } from "../report/github-errors.ts";
import type { OctokitLike } from "../report/octokit-like.ts";
import { renderComment, renderNoteComment } from "../report/render-comment.ts";
import type { RunRecord } from "../runs/run.ts";

export const COMMAND_FEEDBACK_TOPIC = "command-feedback";

export interface CommandFeedback {
  readonly installationId: number;
  readonly owner: string;
  readonly repo: string;
  readonly issueNumber: number;
  /** The comment the command was written in; null for a Checks tab request (no comment to react to). */
  readonly commentId: number | null;
  readonly reaction: "rocket" | "confused";
  /** Markdown, already escaped. */
  readonly note: string;
  /** The delivery whose runs the command started; null: show the newest runs on that issue or PR, if any. */
  readonly deliveryId: string | null;
}

export interface CommandFeedbackDeps {
  readonly octokitFor: (installationId: number) => Promise<OctokitLike>;
  readonly runsForDelivery: (deliveryId: string) => Promise<RunRecord[]>;
  readonly latestRunsOn: (repo: string, number: number) => Promise<RunRecord[]>;
  /** The process's one upserter (shared with the reporter), so there is never a second bot comment. */
  readonly comments: CommentUpserter;
  readonly runUrl: (runId: string) => string | undefined;
  readonly now?: () => Date;
}

export function commandFeedbackHandler(deps: CommandFeedbackDeps): OutboxHandler {
  return async (message: StoredOutboxMessage): Promise<Delivered> => {
    const feedback = message.payload as CommandFeedback;
    try {
      const octokit = await deps.octokitFor(feedback.installationId);
      // A comment deleted meanwhile (404) gets no reaction, but the one bot comment is still written.
      if (feedback.commentId !== null)
        await octokit.rest.reactions
          .createForIssueComment({
            owner: feedback.owner,
            repo: feedback.repo,
            comment_id: feedback.commentId,
            content: feedback.reaction,
          })
          .catch((error: unknown) => {
            if (describeGitHubFailure(error).transient) throw error;
          });
      const fullName = `${feedback.owner}/${feedback.repo}`;
      const runs = feedback.deliveryId
        ? await deps.runsForDelivery(feedback.deliveryId)
        : await deps.latestRunsOn(fullName, feedback.issueNumber);
      const first = runs[0];
      const body = first
        ? renderComment({
            event: first.event,
            runs,
            tails: new Map(),
            runUrl: deps.runUrl,
            now: deps.now?.() ?? new Date(),
            note: feedback.note,
          })
        : renderNoteComment(feedback.note);
      await deps.comments.upsert(
        octokit,
        { owner: feedback.owner, repo: feedback.repo, number: feedback.issueNumber },
        body,
      );
      return { ok: true };
    } catch (error) {
      const failure = describeGitHubFailure(error);
      return {
        ok: false,
        retryable: failure.transient,
        error:
          `${failure.method ?? ""} ${failure.url ?? ""} ${failure.status ?? ""} ${failure.message}`.trim(),
      };
    }
  };
}
