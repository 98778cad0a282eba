/**
 * Chains: once a run of a delivery ends, the runs that needed it are skipped or queued (`decideDependents`
 * decides; this applies it in the caller's transaction).
 */
import type { RunJobs } from "../queue/run-jobs.ts";
import { decideDependents } from "../runs/dependents.ts";
import type { RunState } from "../runs/run.ts";
import type { Transaction } from "./database.ts";
import { settleStepsOf } from "./settle-steps.ts";

export interface SettledDependents {
  /** Runs this skipped, with their delivery. */
  readonly skipped: { id: string; deliveryId: string }[];
  /** Manual runs whose needs passed: now `waiting` for `/deploy-bot deploy`. */
  readonly waited: string[];
  /** Whether it queued any. */
  readonly enqueued: boolean;
}

/** Ends waiting runs (skipped, superseded) and their steps, in two statements whatever their number. */
export async function endWaitingRuns(
  tx: Transaction,
  ended: readonly { id: string; detail: string }[],
  state: "skipped" | "superseded",
): Promise<void> {
  if (ended.length === 0) return;
  await tx.query(
    `UPDATE runs SET state = $2, detail = x.detail, finished_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id text, detail text) WHERE runs.id = x.id`,
    [JSON.stringify(ended), state],
  );
  await settleStepsOf(
    tx,
    ended.map((run) => run.id),
    state,
  );
}

/**
 * Applies `decideDependents` to each delivery (one read for all of them); returns the runs it skipped,
 * with their delivery, and whether it queued any.
 */
export async function settleDependents(
  jobs: Pick<RunJobs, "enqueue">,
  tx: Transaction,
  deliveryIds: Iterable<string>,
): Promise<SettledDependents> {
  const ids = [...new Set(deliveryIds)];
  if (ids.length === 0)
    return { skipped: [] as { id: string; deliveryId: string }[], waited: [], enqueued: false };
  const rows = await tx.query<{
    id: string;
    delivery_id: string;
    pipeline: string;
    needs: string[];
    state: RunState;
    job_id: string | null;
    environment: string | null;
    seq: string | number;
    manual: boolean;
  }>(
    `SELECT id, delivery_id, pipeline, needs, state, job_id, environment, seq, manual FROM runs
     WHERE delivery_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq`,
    [JSON.stringify(ids)],
  );
  const byDelivery = Map.groupBy(rows, (row) => row.delivery_id);
  const skip: { id: string; detail: string; deliveryId: string }[] = [];
  const ready: { id: string; environment: string | null }[] = [];
  const waited: string[] = [];
  for (const deliveryRows of byDelivery.values()) {
    const decision = decideDependents(
      deliveryRows.map((row) => ({
        id: row.id,
        pipeline: row.pipeline,
        needs: row.needs,
        state: row.state,
        enqueued: row.job_id !== null,
        seq: Number(row.seq),
        manual: row.manual,
      })),
    );
    waited.push(...decision.wait);
    for (const { id, detail } of decision.skip)
      skip.push({ id, detail, deliveryId: deliveryRows[0]!.delivery_id });
    for (const id of decision.enqueue)
      ready.push({ id, environment: deliveryRows.find((row) => row.id === id)?.environment ?? null });
  }
  await endWaitingRuns(tx, skip, "skipped");
  await jobs.enqueue(tx, ready);
  if (waited.length > 0)
    await tx.query(
      "UPDATE runs SET state = 'waiting' WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
      [JSON.stringify(waited)],
    );
  return {
    skipped: skip.map(({ id, deliveryId }) => ({ id, deliveryId })),
    waited,
    enqueued: ready.length > 0,
  };
}
