/** A run that ends settles its steps: the running one takes the run's ending, the pending ones are skipped. */
import type { RunState } from "../runs/run.ts";
import type { Transaction } from "./database.ts";

/** A finished run leaves no step `running` or `pending`. */
export function settleSteps(tx: Transaction, runId: string, runState: RunState): Promise<void> {
  return settleStepsOf(tx, [runId], runState);
}

/** Settles the steps of many runs ending in the same state, in one statement. */
export async function settleStepsOf(
  tx: Transaction,
  runIds: readonly string[],
  runState: RunState,
): Promise<void> {
  if (runIds.length === 0) return;
  const interruptedAs = runState === "timed_out" ? "timed_out" : runState === "error" ? "error" : "cancelled";
  await tx.query(
    `UPDATE steps SET state = CASE WHEN state = 'running' THEN $2 ELSE 'skipped' END,
       finished_at = CASE WHEN state = 'running' THEN now() ELSE finished_at END
     WHERE run_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND state IN ('running', 'pending')`,
    [JSON.stringify(runIds), interruptedAs],
  );
}
