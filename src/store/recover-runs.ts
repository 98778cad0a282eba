/** Recovery after a crash: the runs a dead worker left `running` end `interrupted`; some run again. */
import { deadWorkerDetail, type WorkerRow } from "../runs/dead-workers.ts";
import { requeuedAfterCrash } from "../runs/requeue-policy.ts";
import type { RunRecord } from "../runs/run.ts";
import { loadRuns } from "./load-runs.ts";
import type { Logger } from "./logger.ts";
import { processIsAlive } from "./process-alive.ts";
import { newRunId } from "./run-keys.ts";
import { settleDependents } from "./settle-dependents.ts";
import { settleSteps } from "./settle-steps.ts";
import type { StoreContext } from "./store-context.ts";

export interface RecoveryResult {
  readonly interrupted: RunRecord[];
  /** Fresh copies of interrupted runs that are not deploys. */
  readonly requeued: RunRecord[];
  readonly skipped: RunRecord[];
}

export interface RecoveryOptions {
  readonly workerId: string;
  readonly staleAfterMs: number;
  readonly startingUp: boolean;
}

interface RecoveryContext extends StoreContext {
  readonly logger: Logger;
  /** This machine's host name: a worker here whose process is gone is dead at once. */
  readonly host: string;
}

/**
 * Ends the runs of workers that are gone (`deadWorkerDetail` decides which), re-queues what may run again
 * (`requeuedAfterCrash`) and settles their chains, one transaction per dead worker.
 */
export async function recoverRuns(ctx: RecoveryContext, options: RecoveryOptions): Promise<RecoveryResult> {
  const { db, jobs, logger, host } = ctx;
  const holders = await db.query<{ worker_id: string }>(
    "SELECT DISTINCT worker_id FROM runs WHERE state = 'running' AND worker_id IS NOT NULL",
  );
  const result: { interrupted: string[]; requeued: string[]; skipped: string[] } = {
    interrupted: [],
    requeued: [],
    skipped: [],
  };
  if (holders.length === 0) return { interrupted: [], requeued: [], skipped: [] };
  const workerRows = await db.query<{
    id: string;
    host: string;
    pid: number;
    stopped: boolean;
    stale: boolean;
  }>(
    `SELECT id, host, pid, stopped_at IS NOT NULL AS stopped,
            heartbeat_at < now() - make_interval(secs => $1::float8) AS stale
     FROM workers`,
    [options.staleAfterMs / 1000],
  );
  const workers = new Map<string, WorkerRow>(workerRows.map((row) => [row.id, row]));
  let enqueued = false;
  for (const { worker_id: workerId } of holders) {
    const detail = deadWorkerDetail(workerId, workers.get(workerId), {
      self: options.workerId,
      host,
      startingUp: options.startingUp,
      embedded: db.kind === "pglite",
      isAlive: processIsAlive,
    });
    if (detail === null) continue;
    logger.warn({ workerId, detail }, "ending the runs of a worker that is gone");
    await db.transaction(async (tx) => {
      const before = { requeued: result.requeued.length };
      const ended = await tx.query<{
        id: string;
        delivery_id: string;
        environment: string | null;
        job_queue: string | null;
        job_id: string | null;
      }>(
        `UPDATE runs SET state = 'interrupted', detail = $2, finished_at = now()
         WHERE worker_id = $1 AND state = 'running'
         RETURNING id, delivery_id, environment, job_queue, job_id`,
        [workerId, detail],
      );
      for (const run of ended) {
        result.interrupted.push(run.id);
        await settleSteps(tx, run.id, "interrupted");
        await jobs.complete(tx, run.job_queue, run.job_id);
        if (requeuedAfterCrash(run)) {
          const copy = newRunId();
          await tx.query(
            `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state, retry_of)
             SELECT $2, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, 'queued', id
             FROM runs WHERE id = $1`,
            [run.id, copy],
          );
          await tx.query(
            "INSERT INTO steps (run_id, idx, name) SELECT $2, idx, name FROM steps WHERE run_id = $1",
            [run.id, copy],
          );
          await jobs.enqueue(tx, [{ id: copy, environment: null }]);
          enqueued = true;
          result.requeued.push(copy);
        }
      }
      const dependents = await settleDependents(
        jobs,
        tx,
        ended.map((run) => run.delivery_id),
      );
      result.skipped.push(...dependents.skipped.map((skipped) => skipped.id));
      enqueued ||= dependents.enqueued;
      await ctx.tellChange(tx, {
        cause: "recovered",
        runIds: [
          ...ended.map((run) => run.id),
          ...result.requeued.slice(before.requeued),
          ...dependents.skipped.map((skipped) => skipped.id),
        ],
      });
      if (workerId !== options.workerId) {
        await tx.query("UPDATE workers SET stopped_at = now() WHERE id = $1 AND stopped_at IS NULL", [
          workerId,
        ]);
      }
    });
  }
  if (enqueued) ctx.notifyEnqueued();
  return {
    interrupted: await loadRuns(db, result.interrupted),
    requeued: await loadRuns(db, result.requeued),
    skipped: await loadRuns(db, result.skipped),
  };
}
