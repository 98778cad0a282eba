/** A run's life after it is queued: claimed by a worker, finished with an outcome; fork runs approved. */
import { ENVIRONMENT_QUEUE, PLAIN_QUEUE } from "../queue/job-queues.ts";
import type { RunRecord } from "../runs/run.ts";
import { loadRuns, runsForDelivery } from "./load-runs.ts";
import { settleDependents } from "./settle-dependents.ts";
import { settleSteps } from "./settle-steps.ts";
import type { StoreContext } from "./store-context.ts";

export interface RunOutcome {
  readonly state: "passed" | "failed" | "timed_out" | "cancelled" | "error";
  readonly detail: string;
}

export interface FinishResult {
  /** The run in its final state, or `null` when it was no longer running (a recovery ended it first). */
  readonly run: RunRecord | null;
  /** Runs of the same delivery that were skipped or became ready because of it. */
  readonly changed: RunRecord[];
}

/** Takes up to `max` ready jobs and marks their runs `running` on `workerId`, atomically. */
export async function claimRuns(
  ctx: StoreContext,
  workerId: string,
  max: number,
): Promise<{ runs: RunRecord[]; jobsTaken: number }> {
  const { db, jobs } = ctx;
  let jobsTaken = 0;
  const claimed = await db.transaction(async (tx) => {
    const ids: string[] = [];
    for (const queue of [ENVIRONMENT_QUEUE, PLAIN_QUEUE]) {
      const room = max - ids.length;
      if (room <= 0) break;
      const fetched = await jobs.fetch(tx, queue, room);
      jobsTaken += fetched.length;
      for (const job of fetched) {
        const rows = await tx.query(
          `UPDATE runs SET state = 'running', worker_id = $2, started_at = now()
           WHERE id = $1 AND state = 'queued' RETURNING id`,
          [job.data.runId, workerId],
        );
        if (rows.length > 0) ids.push(job.data.runId);
        // Superseded (or otherwise ended) while it waited: the job is done, releasing its environment.
        else await jobs.complete(tx, queue, job.id);
      }
    }
    await ctx.tellChange(tx, { cause: "claimed", runIds: ids });
    return ids;
  });
  return { runs: await loadRuns(db, claimed), jobsTaken };
}

/** Records a running run's outcome and settles the runs of its delivery that needed it. */
export async function finishRun(
  ctx: StoreContext,
  runId: string,
  outcome: RunOutcome,
): Promise<FinishResult> {
  const { db, jobs } = ctx;
  const result = await db.transaction(async (tx) => {
    const rows = await tx.query<{ delivery_id: string; job_queue: string | null; job_id: string | null }>(
      `UPDATE runs SET state = $2, detail = $3, finished_at = now() WHERE id = $1 AND state = 'running'
       RETURNING delivery_id, job_queue, job_id`,
      [runId, outcome.state, outcome.detail],
    );
    const row = rows[0];
    if (!row) return null;
    await settleSteps(tx, runId, outcome.state);
    await jobs.complete(tx, row.job_queue, row.job_id);
    const dependents = await settleDependents(jobs, tx, [row.delivery_id]);
    await ctx.tellChange(tx, {
      cause: "finished",
      runIds: [runId, ...dependents.skipped.map((skipped) => skipped.id), ...dependents.waited],
    });
    return { deliveryId: row.delivery_id, dependents };
  });
  if (result === null) return { run: null, changed: [] };
  if (result.dependents.enqueued) ctx.notifyEnqueued();
  const run = (await loadRuns(db, [runId]))[0] ?? null;
  const changed = (await runsForDelivery(db, result.deliveryId)).filter(
    (other) =>
      other.id !== runId &&
      (result.dependents.skipped.some((skipped) => skipped.id === other.id) ||
        other.state === "queued" ||
        result.dependents.waited.includes(other.id)),
  );
  return { run, changed };
}

/** Fork runs of a PR's head commit that awaited approval are queued (the roots of their chains at once). */
export async function approveRuns(
  ctx: StoreContext,
  repo: string,
  prNumber: number,
  sha: string,
): Promise<RunRecord[]> {
  const { db, jobs } = ctx;
  const approved = await db.transaction(async (tx) => {
    const rows = await tx.query<{
      id: string;
      environment: string | null;
      needs: string[];
      seq: string;
      state: string;
    }>(
      `UPDATE runs SET state = CASE WHEN manual AND needs = '[]'::jsonb THEN 'waiting' ELSE 'queued' END
       WHERE repo = $1 AND pr_number = $2 AND sha = $3 AND state = 'awaiting_approval'
       RETURNING id, environment, needs, seq, state`,
      [repo, prNumber, sha],
    );
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    // A manual pipeline first in its chain waits for its deploy command even once approved.
    await jobs.enqueue(
      tx,
      rows.filter((row) => row.needs.length === 0 && row.state === "queued"),
    );
    await ctx.tellChange(tx, { cause: "approved", runIds: rows.map((row) => row.id) });
    return rows.map((row) => row.id);
  });
  if (approved.length > 0) ctx.notifyEnqueued();
  return loadRuns(db, approved);
}
