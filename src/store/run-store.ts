/**
 * The store: deliveries, runs, steps, logs and workers, and the pg-boss jobs that carry runs to workers. Every
 * change of a run's state and the matching queue operation commit in one transaction, so nothing is
 * acknowledged that is not durable and nothing is queued that is not recorded. Each concern lives in its own
 * file; this one opens pg-boss and puts them together.
 */
import os from "node:os";
import { openRunJobs, type RunJobs } from "../queue/run-jobs.ts";
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";
import type { RunRecord } from "../runs/run.ts";
import { type AcceptResult, acceptDeliveries } from "./accept-deliveries.ts";
import { type CommandRuns, commandRuns } from "./command-runs.ts";
import type { Database } from "./database.ts";
import { type DeliveryRecords, deliveryRecords } from "./deliveries.ts";
import { loadRuns, runsForDelivery } from "./load-runs.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { type RecoveryOptions, type RecoveryResult, recoverRuns } from "./recover-runs.ts";
import { type PruneResult, pruneFinished, type RetentionOptions } from "./retention.ts";
import type { OnRunChange } from "./run-changes.ts";
import { approveRuns, claimRuns, type FinishResult, finishRun, type RunOutcome } from "./run-lifecycle.ts";
import { type RunLogs, runLogs } from "./run-logs.ts";
import type { StoreContext } from "./store-context.ts";
import { type WorkerRegistry, workerRegistry } from "./workers.ts";

/** Recording deliveries (the webhook side). */
export interface DeliveryAcceptance {
  acceptDelivery(input: AcceptDeliveryInput): Promise<AcceptResult>;
  /** Accepts several deliveries in one transaction, with the same result as one after another. */
  acceptDeliveries(inputs: readonly AcceptDeliveryInput[]): Promise<AcceptResult[]>;
  approveRuns(repo: string, prNumber: number, sha: string): Promise<RunRecord[]>;
}

/** Reading runs (reports, run pages). */
export interface RunReads {
  getRun(id: string): Promise<RunRecord | null>;
  runsForDelivery(deliveryId: string): Promise<RunRecord[]>;
}

/** What a worker needs: taking, finishing and recovering runs, its own registration, logs and retention. */
export interface WorkerStore extends RunLogs, WorkerRegistry, RunReads {
  /** Takes up to `max` ready jobs and marks their runs `running` on `workerId`, atomically. */
  claimRuns(workerId: string, max: number): Promise<{ runs: RunRecord[]; jobsTaken: number }>;
  finishRun(runId: string, outcome: RunOutcome): Promise<FinishResult>;
  recoverRuns(options: RecoveryOptions): Promise<RecoveryResult>;
  pruneFinished(options: RetentionOptions): Promise<PruneResult>;
  /** Called after a commit that queued jobs, so a worker in this process can fetch without waiting. */
  onEnqueued(listener: () => void): () => void;
}

/** Everything the app and the worker need from storage; each consumer depends on its own part. */
export interface RunStore extends DeliveryAcceptance, WorkerStore, DeliveryRecords, CommandRuns {
  readonly db: Database;
  /** Stops pg-boss; the caller still closes the database. */
  close(): Promise<void>;
  /** The queue engine (pg-boss), for scheduled rules' cron schedules. */
  readonly queueEngine: RunJobs["boss"];
}

export interface RunStoreOptions {
  readonly logger?: Logger;
  /** Called inside every transaction that changes runs (see `run-changes.ts`). */
  readonly onChange?: OnRunChange | undefined;
  /** Run the queue engine's cron pass (the config has scheduled rules). */
  readonly scheduling?: boolean;
}

/** Starts pg-boss on `db`, creates the queues, and returns the store. */
export async function openRunStore(db: Database, options: RunStoreOptions = {}): Promise<RunStore> {
  const logger = options.logger ?? silentLogger;
  const jobs = await openRunJobs(db, logger, options.scheduling);
  const listeners = new Set<() => void>();
  const host = os.hostname();
  const ctx: StoreContext = {
    db,
    jobs,
    async tellChange(tx, change) {
      if (options.onChange && change.runIds.length > 0) await options.onChange(tx, change);
    },
    notifyEnqueued() {
      for (const listener of listeners) listener();
    },
  };
  return {
    db,
    acceptDeliveries: (inputs) => acceptDeliveries(ctx, inputs),
    acceptDelivery: async (input) => (await acceptDeliveries(ctx, [input]))[0]!,
    approveRuns: (repo, prNumber, sha) => approveRuns(ctx, repo, prNumber, sha),
    getRun: async (id) => (await loadRuns(db, [id]))[0] ?? null,
    runsForDelivery: (deliveryId) => runsForDelivery(db, deliveryId),
    claimRuns: (workerId, max) => claimRuns(ctx, workerId, max),
    finishRun: (runId, outcome) => finishRun(ctx, runId, outcome),
    recoverRuns: (recovery) => recoverRuns({ ...ctx, logger, host }, recovery),
    pruneFinished: (retention) => pruneFinished(db, retention),
    ...workerRegistry(db, host),
    ...runLogs(db, logger, options.onChange),
    ...deliveryRecords(db),
    ...commandRuns(db, {
      enqueue: jobs.enqueue,
      tellChange: ctx.tellChange,
      notifyEnqueued: ctx.notifyEnqueued,
    }),
    onEnqueued(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    queueEngine: jobs.boss,
    async close() {
      listeners.clear();
      await jobs.stop();
    },
  };
}
