/**
 * What GitHub was last told about each run as a check run (`settings.checks: true`): the check run's id, whether
 * GitHub shows it completed, and the hash of the fields last sent, so a retry or a restart sends only what
 * changed. A create about to be sent is marked first: a later try that finds the mark without an id (the
 * process died, or GitHub's answer was lost) looks for the check run before creating a second one.
 * Rows go with their run (ON DELETE CASCADE).
 */
import type { Executor } from "./database.ts";

export interface SentCheckRun {
  /** The check run GitHub shows for the run; null while a create is unconfirmed. */
  readonly checkRunId: number | null;
  /** A create was about to be sent (its answer may have been lost). */
  readonly createStarted: boolean;
  /** The check run GitHub shows is completed (a run active again then gets a new one). */
  readonly completed: boolean;
  /** The completed check run a new one replaces (the lookup after a lost create skips it). */
  readonly replacedCheckRunId: number | null;
  readonly bodySha256: string | null;
}

export interface SentCheckRuns {
  /** What was last sent for each of `runIds` that has a check run (or a create under way). */
  checkRunsSent(runIds: readonly string[]): Promise<Map<string, SentCheckRun>>;
  /** A create for `runId` is about to be sent; `replaces` is the completed check run it follows, if any. */
  markCreating(runId: string, replaces: number | null): Promise<void>;
  recordCheckRunSent(
    runId: string,
    sent: { checkRunId: number; completed: boolean; bodySha256: string },
  ): Promise<void>;
}

export function sentCheckRuns(db: Executor): SentCheckRuns {
  return {
    async checkRunsSent(runIds) {
      if (runIds.length === 0) return new Map();
      const rows = await db.query<{
        run_id: string;
        check_run_id: string | number | null;
        create_started: boolean;
        completed: boolean;
        replaced_check_run_id: string | number | null;
        body_sha256: string | null;
      }>(
        `SELECT run_id, check_run_id, create_started, completed, replaced_check_run_id, body_sha256
         FROM report_checks WHERE run_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [JSON.stringify(runIds)],
      );
      return new Map(
        rows.map((row) => [
          row.run_id,
          {
            checkRunId: row.check_run_id === null ? null : Number(row.check_run_id),
            createStarted: row.create_started,
            completed: row.completed,
            replacedCheckRunId: row.replaced_check_run_id === null ? null : Number(row.replaced_check_run_id),
            bodySha256: row.body_sha256,
          },
        ]),
      );
    },
    async markCreating(runId, replaces) {
      // A run pruned meanwhile has nothing left to remember.
      await db.query(
        `INSERT INTO report_checks (run_id, create_started, replaced_check_run_id)
         SELECT $1, true, $2 WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1)
         ON CONFLICT (run_id) DO UPDATE SET check_run_id = NULL, create_started = true, completed = false,
           replaced_check_run_id = $2, body_sha256 = NULL, sent_at = now()`,
        [runId, replaces],
      );
    },
    async recordCheckRunSent(runId, sent) {
      await db.query(
        `INSERT INTO report_checks (run_id, check_run_id, completed, body_sha256)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1)
         ON CONFLICT (run_id) DO UPDATE SET check_run_id = $2, create_started = false, completed = $3,
           body_sha256 = $4, sent_at = now()`,
        [runId, sent.checkRunId, sent.completed, sent.bodySha256],
      );
    },
  };
}
