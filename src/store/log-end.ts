/** The end of one step's log, cheaply, inside any transaction: only its last few stored chunks are read. */
import type { Executor } from "./database.ts";

/** The text of the last `chunks` stored chunks of a step's log (enough for a tail of a few lines). */
export async function readLogEnd(
  db: Executor,
  runId: string,
  stepIndex: number,
  chunks = 16,
): Promise<string> {
  const rows = await db.query<{ text: string }>(
    "SELECT text FROM logs WHERE run_id = $1 AND step_index = $2 ORDER BY seq DESC LIMIT $3",
    [runId, stepIndex, chunks],
  );
  return rows
    .reverse()
    .map((row) => row.text)
    .join("");
}
