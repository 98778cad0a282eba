/** A run's log as rows after a sequence number: what a live run page has not shown yet. */
import type { Executor } from "./database.ts";

export interface LogChunk {
  readonly seq: number;
  readonly step: number;
  /** Masked before it was stored. */
  readonly text: string;
}

export async function logsSince(
  db: Executor,
  runId: string,
  afterSeq: number,
  limit = 1000,
): Promise<LogChunk[]> {
  const rows = await db.query<{ seq: string | number; step_index: number; text: string }>(
    "SELECT seq, step_index, text FROM logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [runId, afterSeq, limit],
  );
  return rows.map((row) => ({ seq: Number(row.seq), step: row.step_index, text: row.text }));
}
