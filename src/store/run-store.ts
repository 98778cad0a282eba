/**
 * Deliveries, runs, steps, logs and workers, and the pg-boss jobs that carry runs to workers. Every
 * change of a run's state and the matching queue operation commit in one transaction, so nothing is
 * acknowledged that is not durable and nothing is queued that is not recorded.
 */
import os from "node:os";
import { ENVIRONMENT_QUEUE, PLAIN_QUEUE } from "../queue/job-queues.ts";
import { openRunJobs } from "../queue/run-jobs.ts";
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";
import { deadWorkerDetail, type WorkerRow } from "../runs/dead-workers.ts";
import { decideDependents } from "../runs/dependents.ts";
import { type NewRunRow, planAcceptance, supersedeWithinBatch } from "../runs/plan-acceptance.ts";
import { requeuedAfterCrash } from "../runs/requeue-policy.ts";
import type { RunRecord, RunState } from "../runs/run.ts";
import { shortSha } from "../runs/supersede-key.ts";
import { type CommandRuns, commandRuns } from "./command-runs.ts";
import type { Database, Transaction } from "./database.ts";
import { type DeliveryRecords, deliveryRecords } from "./deliveries.ts";
import { loadRuns } from "./load-runs.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { processIsAlive } from "./process-alive.ts";
import { type PruneResult, pruneFinished, type RetentionOptions } from "./retention.ts";
import type { OnRunChange, RunChange } from "./run-changes.ts";
import { newRunId } from "./run-keys.ts";
import { type RunLogs, runLogs } from "./run-logs.ts";
import { settleSteps, settleStepsOf } from "./settle-steps.ts";
import { type WorkerRegistry, workerRegistry } from "./workers.ts";

export interface AcceptResult {
  /** The delivery id was seen before: nothing was recorded or queued; `runs` are the first delivery's. */
  readonly duplicate: boolean;
  readonly runs: RunRecord[];
  /** Older still-waiting runs this delivery replaced (state `superseded`, detail = new short SHA). */
  readonly superseded: RunRecord[];
  /** Runs of older deliveries that can no longer start because a run they needed was superseded. */
  readonly skipped: RunRecord[];
}

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

/** Everything the app and the worker need from storage; each consumer may depend on one of its parts. */
export interface RunStore extends RunLogs, WorkerRegistry, DeliveryRecords, CommandRuns {
  readonly db: Database;
  acceptDelivery(input: AcceptDeliveryInput): Promise<AcceptResult>;
  /** Accepts several deliveries in one transaction, with the same result as one after another. */
  acceptDeliveries(inputs: readonly AcceptDeliveryInput[]): Promise<AcceptResult[]>;
  getRun(id: string): Promise<RunRecord | null>;
  runsForDelivery(deliveryId: string): Promise<RunRecord[]>;
  approveRuns(repo: string, prNumber: number, sha: string): Promise<RunRecord[]>;
  /** Takes up to `max` ready jobs and marks their runs `running` on `workerId`, atomically. */
  claimRuns(workerId: string, max: number): Promise<{ runs: RunRecord[]; jobsTaken: number }>;
  finishRun(runId: string, outcome: RunOutcome): Promise<FinishResult>;
  recoverRuns(options: RecoveryOptions): Promise<RecoveryResult>;
  pruneFinished(options: RetentionOptions): Promise<PruneResult>;
  /** Called after a commit that queued jobs, so a worker in this process can fetch without waiting. */
  onEnqueued(listener: () => void): () => void;
  /** Stops pg-boss; the caller still closes the database. */
  close(): Promise<void>;
}

export interface RunStoreOptions {
  readonly logger?: Logger;
  /** Called inside every transaction that changes runs (see `run-changes.ts`). */
  readonly onChange?: OnRunChange | undefined;
}

/** Starts pg-boss on `db`, creates the queues, and returns the store. */
export async function openRunStore(db: Database, options: RunStoreOptions = {}): Promise<RunStore> {
  const logger = options.logger ?? silentLogger;
  const jobs = await openRunJobs(db, logger);
  const enqueueRuns = jobs.enqueue;
  const listeners = new Set<() => void>();
  const notifyEnqueued = () => {
    for (const listener of listeners) listener();
  };
  const host = os.hostname();
  const tellChange = async (tx: Transaction, change: RunChange): Promise<void> => {
    if (options.onChange && change.runIds.length > 0) await options.onChange(tx, change);
  };

  /** Ends waiting runs (skipped, superseded) and their steps, in two statements whatever their number. */
  const endWaitingRuns = async (
    tx: Transaction,
    ended: readonly { id: string; detail: string }[],
    state: "skipped" | "superseded",
  ): Promise<void> => {
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
  };

  /** Manual runs whose needs passed now wait for `/deploy-bot deploy` (see `command-runs.ts`). */
  const waitForCommand = async (tx: Transaction, ids: readonly string[]): Promise<void> => {
    if (ids.length > 0)
      await tx.query(
        "UPDATE runs SET state = 'waiting' WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
        [JSON.stringify(ids)],
      );
  };

  /**
   * Applies `decideDependents` to each delivery (one read for all of them); returns the runs it skipped,
   * with their delivery, and whether it queued any.
   */
  const settleDependents = async (tx: Transaction, deliveryIds: Iterable<string>) => {
    const ids = [...new Set(deliveryIds)];
    if (ids.length === 0)
      return { skipped: [] as { id: string; deliveryId: string }[], waited: [] as string[], enqueued: false };
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
    const waiting: string[] = [];
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
      for (const id of decision.wait) waiting.push(id);
      for (const { id, detail } of decision.skip)
        skip.push({ id, detail, deliveryId: deliveryRows[0]!.delivery_id });
      for (const id of decision.enqueue)
        ready.push({ id, environment: deliveryRows.find((row) => row.id === id)?.environment ?? null });
    }
    await endWaitingRuns(tx, skip, "skipped");
    await enqueueRuns(tx, ready);
    await waitForCommand(tx, waiting);
    return {
      skipped: skip.map(({ id, deliveryId }) => ({ id, deliveryId })),
      waited: waiting,
      enqueued: ready.length > 0,
    };
  };

  /**
   * Records deliveries and their runs, supersedes what they replace and queues what can start, all in
   * one transaction with a fixed number of statements whatever the batch size (group commit). The result
   * is the same as accepting them one after another in the given order.
   */
  const acceptDeliveries = async (inputs: readonly AcceptDeliveryInput[]): Promise<AcceptResult[]> => {
    if (inputs.length === 0) return [];
    const plan = planAcceptance(inputs, newRunId);
    const outcome = await db.transaction(async (tx) => {
      const inserted = new Set(
        (
          await tx.query<{ id: string }>(
            `INSERT INTO deliveries (id, event_name, event, repo, sha, outcome, reason)
             SELECT id, event_name, event, repo, sha, outcome, reason
             FROM jsonb_to_recordset($1::jsonb)
               AS x(id text, event_name text, event jsonb, repo text, sha text, outcome text, reason text)
             ON CONFLICT (id) DO NOTHING RETURNING id`,
            [JSON.stringify(plan.deliveries)],
          )
        ).map((row) => row.id),
      );
      const runs = plan.runs.filter((run) => inserted.has(run.deliveryId));
      if (runs.length === 0) {
        // Only duplicates or deliveries that run nothing: there is nothing to supersede or queue.
        const none = {
          skipped: [] as { id: string; deliveryId: string }[],
          waited: [] as string[],
          enqueued: false,
        };
        return {
          inserted,
          supersededOld: [],
          supersededNew: new Map<string, NewRunRow>(),
          dependents: none,
          enqueued: false,
        };
      }
      // Older waiting runs (only runs that have not started: a running deploy is never touched) are
      // replaced by the first new run with their key; new runs are then replaced by the next one.
      const firstOfKey = new Map<string, (typeof runs)[number]>();
      for (const run of runs) if (!firstOfKey.has(run.key)) firstOfKey.set(run.key, run);
      const supersededOld = await tx.query<{ id: string; delivery_id: string; by: string }>(
        `UPDATE runs r SET state = 'superseded', detail = x.detail, finished_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS x(repo text, pipeline text, ref_key text, detail text, by text)
         WHERE r.repo = x.repo AND r.pipeline = x.pipeline AND r.ref_key = x.ref_key
           AND r.state IN ('queued', 'awaiting_approval', 'waiting')
         RETURNING r.id, r.delivery_id, x.by`,
        [
          JSON.stringify(
            [...firstOfKey.values()].map((run) => ({
              repo: run.repo,
              pipeline: run.pipeline,
              ref_key: run.refKey,
              detail: shortSha(run.sha),
              by: run.deliveryId,
            })),
          ),
        ],
      );
      await settleStepsOf(
        tx,
        supersededOld.map((row) => row.id),
        "superseded",
      );
      const supersededNew = supersedeWithinBatch(runs);
      await tx.query(
        `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state,
                           detail, finished_at, manual)
         SELECT id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state, detail,
                CASE WHEN state = 'superseded' THEN now() END, coalesce(manual, false)
         FROM jsonb_to_recordset($1::jsonb)
           AS x(id text, delivery_id text, repo text, ref_key text, sha text, pr_number integer, pipeline text,
                environment text, needs jsonb, state text, detail text, ord integer, manual boolean)
         ORDER BY ord`,
        [
          JSON.stringify(
            runs.map((run, ord) => {
              const by = supersededNew.get(run.id);
              return {
                ord,
                id: run.id,
                delivery_id: run.deliveryId,
                repo: run.repo,
                ref_key: run.refKey,
                sha: run.sha,
                pr_number: run.prNumber,
                pipeline: run.pipeline,
                environment: run.environment,
                needs: run.needs,
                state: by ? "superseded" : run.initialState,
                detail: by ? shortSha(by.sha) : null,
                manual: run.manual === true,
              };
            }),
          ),
        ],
      );
      await tx.query(
        `INSERT INTO steps (run_id, idx, name, state)
         SELECT run_id, idx, name, state FROM jsonb_to_recordset($1::jsonb)
           AS x(run_id text, idx integer, name text, state text)`,
        [
          JSON.stringify(
            runs.flatMap((run) =>
              run.stepNames.map((name, idx) => ({
                run_id: run.id,
                idx,
                name,
                state: supersededNew.has(run.id) ? "skipped" : "pending",
              })),
            ),
          ),
        ],
      );
      const dependents = await settleDependents(tx, [
        ...supersededOld.map((row) => row.delivery_id),
        ...runs.filter((run) => supersededNew.has(run.id)).map((run) => run.deliveryId),
      ]);
      const roots = runs.filter(
        (run) => run.initialState === "queued" && run.needs.length === 0 && !supersededNew.has(run.id),
      );
      await enqueueRuns(tx, roots);
      await tellChange(tx, {
        cause: "accepted",
        runIds: [
          ...runs.map((run) => run.id),
          ...supersededOld.map((row) => row.id),
          ...dependents.skipped.map((row) => row.id),
        ],
      });
      return {
        inserted,
        supersededOld,
        supersededNew,
        dependents,
        enqueued: dependents.enqueued || roots.length > 0,
      };
    });
    if (outcome.enqueued) notifyEnqueued();

    // Which delivery replaced which runs (and, through them, skipped which), for each delivery's report.
    const supersededBy = new Map<string, string[]>();
    const add = (deliveryId: string, runId: string) =>
      supersededBy.set(deliveryId, [...(supersededBy.get(deliveryId) ?? []), runId]);
    for (const row of outcome.supersededOld) add(row.by, row.id);
    for (const [runId, by] of outcome.supersededNew) add(by.deliveryId, runId);
    const causeOf = new Map<string, string>();
    for (const row of outcome.supersededOld) causeOf.set(row.delivery_id, row.by);
    for (const run of plan.runs)
      if (outcome.supersededNew.has(run.id))
        causeOf.set(run.deliveryId, outcome.supersededNew.get(run.id)!.deliveryId);
    const skippedBy = new Map<string, string[]>();
    for (const skipped of outcome.dependents.skipped) {
      const cause = causeOf.get(skipped.deliveryId);
      if (cause) skippedBy.set(cause, [...(skippedBy.get(cause) ?? []), skipped.id]);
    }
    const loaded = new Map(
      (
        await loadRuns(db, [
          ...plan.runs.filter((run) => outcome.inserted.has(run.deliveryId)).map((run) => run.id),
          ...outcome.supersededOld.map((row) => row.id),
          ...outcome.dependents.skipped.map((row) => row.id),
        ])
      ).map((run) => [run.id, run]),
    );
    const pick = (ids: readonly string[] | undefined) =>
      (ids ?? []).flatMap((id) => {
        const run = loaded.get(id);
        return run ? [run] : [];
      });
    const results: AcceptResult[] = [];
    for (const [index, input] of inputs.entries()) {
      if (plan.firstIndex.get(input.deliveryId) !== index || !outcome.inserted.has(input.deliveryId)) {
        results.push({
          duplicate: true,
          runs: await runsForDelivery(input.deliveryId),
          superseded: [],
          skipped: [],
        });
        continue;
      }
      results.push({
        duplicate: false,
        runs: pick(plan.runs.filter((run) => run.deliveryId === input.deliveryId).map((run) => run.id)),
        superseded: pick(supersededBy.get(input.deliveryId)),
        skipped: pick(skippedBy.get(input.deliveryId)),
      });
    }
    return results;
  };

  const acceptDelivery = async (input: AcceptDeliveryInput): Promise<AcceptResult> =>
    (await acceptDeliveries([input]))[0]!;

  const runsForDelivery = async (deliveryId: string): Promise<RunRecord[]> => {
    const rows = await db.query<{ id: string }>("SELECT id FROM runs WHERE delivery_id = $1 ORDER BY seq", [
      deliveryId,
    ]);
    return loadRuns(
      db,
      rows.map((row) => row.id),
    );
  };

  const claimRuns = async (workerId: string, max: number) => {
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
      await tellChange(tx, { cause: "claimed", runIds: ids });
      return ids;
    });
    return { runs: await loadRuns(db, claimed), jobsTaken };
  };

  const finishRun = async (runId: string, outcome: RunOutcome): Promise<FinishResult> => {
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
      const dependents = await settleDependents(tx, [row.delivery_id]);
      await tellChange(tx, {
        cause: "finished",
        runIds: [runId, ...dependents.skipped.map((skipped) => skipped.id), ...dependents.waited],
      });
      return { deliveryId: row.delivery_id, dependents };
    });
    if (result === null) return { run: null, changed: [] };
    if (result.dependents.enqueued) notifyEnqueued();
    const run = await getRun(runId);
    const changed = (await runsForDelivery(result.deliveryId)).filter(
      (other) =>
        other.id !== runId &&
        (result.dependents.skipped.some((skipped) => skipped.id === other.id) ||
          other.state === "queued" ||
          result.dependents.waited.includes(other.id)),
    );
    return { run, changed };
  };

  const getRun = async (id: string) => (await loadRuns(db, [id]))[0] ?? null;

  const recoverRuns = async (options: RecoveryOptions): Promise<RecoveryResult> => {
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
            await enqueueRuns(tx, [{ id: copy, environment: null }]);
            enqueued = true;
            result.requeued.push(copy);
          }
        }
        const dependents = await settleDependents(
          tx,
          ended.map((run) => run.delivery_id),
        );
        result.skipped.push(...dependents.skipped.map((skipped) => skipped.id));
        enqueued ||= dependents.enqueued;
        await tellChange(tx, {
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
    if (enqueued) notifyEnqueued();
    return {
      interrupted: await loadRuns(db, result.interrupted),
      requeued: await loadRuns(db, result.requeued),
      skipped: await loadRuns(db, result.skipped),
    };
  };

  return {
    db,
    acceptDeliveries,
    acceptDelivery,
    getRun,
    runsForDelivery,
    async approveRuns(repo, prNumber, sha) {
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
        await enqueueRuns(
          tx,
          rows.filter((row) => row.needs.length === 0 && row.state === "queued"),
        );
        await tellChange(tx, { cause: "approved", runIds: rows.map((row) => row.id) });
        return rows.map((row) => row.id);
      });
      if (approved.length > 0) notifyEnqueued();
      return loadRuns(db, approved);
    },
    claimRuns,
    finishRun,
    ...workerRegistry(db, host),
    ...runLogs(db, logger, options.onChange),
    ...deliveryRecords(db),
    ...commandRuns(db, { enqueue: enqueueRuns, tellChange, notifyEnqueued }),
    pruneFinished: (retention) => pruneFinished(db, retention),
    recoverRuns,
    onEnqueued(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await jobs.stop();
    },
  };
}
