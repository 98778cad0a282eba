/**
 * Retention: finished runs beyond the kept count or age go, with their steps and logs (ON DELETE CASCADE), and
 * so do outbox messages given up on (kept that long for inspection).
 */
import type { Executor } from "./database.ts";
import { pruneSentComments } from "./sent-reports.ts";

export interface PruneResult {
  readonly runs: number;
  readonly deliveries: number;
  readonly failedMessages: number;
}

export interface RetentionOptions {
  readonly olderThanDays: number;
  readonly keepRuns: number;
}

export async function pruneFinished(
  db: Executor,
  { olderThanDays, keepRuns }: RetentionOptions,
): Promise<PruneResult> {
  const runs = await db.query(
    `DELETE FROM runs WHERE finished_at IS NOT NULL AND (
         finished_at < now() - make_interval(days => $1::integer)
         OR id NOT IN (SELECT id FROM runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, seq DESC LIMIT $2)
       ) RETURNING id`,
    [olderThanDays, keepRuns],
  );
  const deliveries = await db.query(
    `DELETE FROM deliveries d WHERE received_at < now() - make_interval(days => $1::integer)
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.delivery_id = d.id) RETURNING id`,
    [olderThanDays],
  );
  await pruneSentComments(db);
  const failedMessages = await db.query(
    "DELETE FROM outbox WHERE failed_at < now() - make_interval(days => $1::integer) RETURNING id",
    [olderThanDays],
  );
  return { runs: runs.length, deliveries: deliveries.length, failedMessages: failedMessages.length };
}
