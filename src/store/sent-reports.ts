/**
 * What GitHub was last told, kept in the store so a restart (or another worker) sends only what changed:
 * the (state, description) of each run's commit status, and the id and body hash of each PR's comment.
 * Status rows go with their run (ON DELETE CASCADE); comment rows when no run of their PR is left.
 */
import type { Executor } from "./database.ts";

export interface SentStatus {
  readonly state: string;
  readonly description: string;
}

export interface SentComment {
  readonly commentId: number;
  readonly bodySha256: string;
}

export interface PullRequestKey {
  /** `owner/name`, any case (stored lower-case: GitHub's names are case-insensitive). */
  readonly repo: string;
  readonly prNumber: number;
}

export interface SentReports {
  /** The last status sent for each of `runIds` that has one. */
  statusesSent(runIds: readonly string[]): Promise<Map<string, SentStatus>>;
  recordStatusSent(runId: string, sent: SentStatus): Promise<void>;
  commentSent(pr: PullRequestKey): Promise<SentComment | undefined>;
  recordCommentSent(pr: PullRequestKey, sent: SentComment): Promise<void>;
  /** The delivery whose runs the PR's comment shows: the newest one that has runs (retried copies aside). */
  newestDeliveryOf(pr: PullRequestKey): Promise<string | undefined>;
}

export function sentReports(db: Executor): SentReports {
  return {
    async statusesSent(runIds) {
      if (runIds.length === 0) return new Map();
      const rows = await db.query<{ run_id: string; state: string; description: string }>(
        `SELECT run_id, state, description FROM report_statuses
         WHERE run_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [JSON.stringify(runIds)],
      );
      return new Map(rows.map((row) => [row.run_id, { state: row.state, description: row.description }]));
    },
    async recordStatusSent(runId, sent) {
      // A run pruned meanwhile has nothing left to remember.
      await db.query(
        `INSERT INTO report_statuses (run_id, state, description)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1)
         ON CONFLICT (run_id) DO UPDATE SET state = $2, description = $3, sent_at = now()`,
        [runId, sent.state, sent.description],
      );
    },
    async commentSent(pr) {
      const rows = await db.query<{ comment_id: string | number; body_sha256: string }>(
        "SELECT comment_id, body_sha256 FROM report_comments WHERE repo = $1 AND pr_number = $2",
        [pr.repo.toLowerCase(), pr.prNumber],
      );
      const row = rows[0];
      return row ? { commentId: Number(row.comment_id), bodySha256: row.body_sha256 } : undefined;
    },
    async recordCommentSent(pr, sent) {
      await db.query(
        `INSERT INTO report_comments (repo, pr_number, comment_id, body_sha256) VALUES ($1, $2, $3, $4)
         ON CONFLICT (repo, pr_number) DO UPDATE SET comment_id = $3, body_sha256 = $4, sent_at = now()`,
        [pr.repo.toLowerCase(), pr.prNumber, sent.commentId, sent.bodySha256],
      );
    },
    async newestDeliveryOf(pr) {
      const rows = await db.query<{ delivery_id: string }>(
        `SELECT delivery_id FROM runs WHERE lower(repo) = $1 AND pr_number = $2 AND retry_of IS NULL
         ORDER BY seq DESC LIMIT 1`,
        [pr.repo.toLowerCase(), pr.prNumber],
      );
      return rows[0]?.delivery_id;
    },
  };
}

/** Forgets the comments of pull requests none of whose runs are kept any more (retention). */
export async function pruneSentComments(db: Executor): Promise<number> {
  const rows = await db.query(
    `DELETE FROM report_comments c WHERE NOT EXISTS (
       SELECT 1 FROM runs r WHERE lower(r.repo) = c.repo AND r.pr_number = c.pr_number) RETURNING repo`,
  );
  return rows.length;
}
