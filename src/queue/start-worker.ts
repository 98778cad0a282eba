/**
 * The worker: takes ready runs from the queue (at most `concurrency` at once), executes them, records
 * their outcome, heartbeats, ends the runs of workers that died, and prunes old runs daily.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { RunRecord, StepUpdate } from "../runs/run.ts";
import type { LogSink, LogSinkOptions } from "../store/log-sink.ts";
import { type Logger, silentLogger } from "../store/logger.ts";
import type { RecoveryResult } from "../store/recover-runs.ts";
import type { FinishResult, RunOutcome } from "../store/run-lifecycle.ts";
import type { WorkerStore } from "../store/run-store.ts";

export const SHUTDOWN_DETAIL = "Cancelled: the worker shut down";

export interface ExecuteContext {
  /** Aborted when the worker shuts down past its grace period: kill the step's processes and return. */
  readonly signal: AbortSignal;
  readonly logs: LogSink;
  /** Records a step's progress (fire and forget; written in order). */
  onStep(update: StepUpdate): void;
}

export type Execute = (run: RunRecord, ctx: ExecuteContext) => Promise<RunOutcome>;

export interface WorkerOptions {
  readonly store: WorkerStore;
  /** `settings.concurrency`: runs executing at once in this worker. */
  readonly concurrency: number;
  /** Stable across restarts lets the next start end this one's runs at once; default host:pid:random. */
  readonly workerId?: string;
  readonly execute: Execute;
  /**
   * Every state change the worker makes (running, final, skipped, interrupted, re-queued), after its commit: for
   * metrics and to wake the outbox (the store recorded the reports in the change's own transaction).
   */
  readonly onRunChanged: (run: RunRecord) => void;
  readonly logger?: Logger;
  /** How often to look for jobs queued by other processes (this process's own wake the worker at once). */
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  /** A worker silent for this long is taken for dead and its runs are ended. */
  readonly staleAfterMs?: number;
  /** `settings.retention`; pruning runs at start and then daily. Omit to never prune. */
  readonly retention?: { readonly days: number; readonly runs: number };
  readonly logSink?: LogSinkOptions;
}

export interface Worker {
  readonly id: string;
  /** Runs executing now. */
  active(): number;
  /**
   * Stops fetching, lets running runs finish for up to `graceMs`, then aborts them; they end
   * `cancelled`. Resolves when every run is recorded. Does not close the store.
   */
  stop(graceMs: number): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** After aborting, how long a run's execute gets to return before the worker records it cancelled anyway. */
const ABORT_WAIT_MS = 15_000;

interface ActiveRun {
  readonly controller: AbortController;
  done: Promise<void>;
  stoppedByShutdown: boolean;
}

/** Registers this worker, ends the runs its previous incarnation left running, and starts taking runs. */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { store, execute } = options;
  const logger = options.logger ?? silentLogger;
  const id = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const concurrency = Math.max(1, options.concurrency);
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const active = new Map<string, ActiveRun>();
  let stopping = false;

  const report = (run: RunRecord | null) => {
    if (!run) return;
    try {
      options.onRunChanged(run);
    } catch (error) {
      logger.error({ err: error, runId: run.id }, "onRunChanged failed");
    }
  };
  const reportRecovery = (result: RecoveryResult) => {
    for (const run of [...result.interrupted, ...result.requeued, ...result.skipped]) report(run);
  };

  await store.registerWorker(id);
  reportRecovery(await store.recoverRuns({ workerId: id, staleAfterMs, startingUp: true }));

  const finish = async (runId: string, outcome: RunOutcome): Promise<FinishResult | null> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.finishRun(runId, outcome);
      } catch (error) {
        if (attempt >= 3) {
          logger.error({ err: error, runId }, "could not record the run's outcome; a restart will end it");
          return null;
        }
        await sleep(1000 * attempt);
      }
    }
  };

  const launch = (run: RunRecord) => {
    const controller = new AbortController();
    const entry: ActiveRun = { controller, stoppedByShutdown: false, done: Promise.resolve() };
    entry.done = (async () => {
      report(run);
      const logs = store.createRunLogSink(run.id, options.logSink);
      let steps: Promise<void> = Promise.resolve();
      const onStep = (update: StepUpdate) => {
        // Told once recorded: the reports were enqueued in the step's own transaction.
        steps = steps
          .then(() => store.updateStep(run.id, update))
          .then(() => report(run))
          .catch((error: unknown) => logger.warn({ err: error, runId: run.id }, "could not record a step"));
      };
      let outcome: RunOutcome;
      try {
        outcome = await execute(run, { signal: controller.signal, logs, onStep });
      } catch (error) {
        outcome = { state: "error", detail: `The bot failed: ${(error as Error).message ?? String(error)}` };
      }
      if (entry.stoppedByShutdown) outcome = { state: "cancelled", detail: SHUTDOWN_DETAIL };
      await logs.close();
      await steps;
      const result = await finish(run.id, outcome);
      if (result) {
        report(result.run);
        for (const changed of result.changed) report(changed);
      }
    })().finally(() => {
      active.delete(run.id);
      pump();
    });
    active.set(run.id, entry);
  };

  let pumping = false;
  let again = false;
  const pump = () => {
    if (stopping) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    void (async () => {
      do {
        again = false;
        while (!stopping && active.size < concurrency) {
          const { runs, jobsTaken } = await store.claimRuns(id, concurrency - active.size);
          for (const run of runs) launch(run);
          if (jobsTaken === 0) break;
        }
      } while (again && !stopping);
    })()
      .catch((error: unknown) => logger.error({ err: error }, "could not fetch runs"))
      .finally(() => {
        pumping = false;
      });
  };

  let ticking = false;
  const tick = async () => {
    if (ticking || stopping) return;
    ticking = true;
    try {
      await store.heartbeat(id);
      reportRecovery(await store.recoverRuns({ workerId: id, staleAfterMs, startingUp: false }));
    } catch (error) {
      logger.warn({ err: error }, "worker heartbeat failed");
    } finally {
      ticking = false;
    }
  };

  const prune = async () => {
    if (!options.retention || stopping) return;
    try {
      const pruned = await store.pruneFinished({
        olderThanDays: options.retention.days,
        keepRuns: options.retention.runs,
      });
      if (pruned.runs > 0) logger.info(pruned, "pruned finished runs");
    } catch (error) {
      logger.warn({ err: error }, "pruning finished runs failed");
    }
  };

  const timers = [
    setInterval(pump, options.pollMs ?? 1000),
    setInterval(() => void tick(), options.heartbeatMs ?? 5000),
    setInterval(() => void prune(), DAY_MS),
  ];
  const unsubscribe = store.onEnqueued(pump);
  void prune();
  pump();
  logger.info({ workerId: id, concurrency }, "worker started");

  return {
    id,
    active: () => active.size,
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      unsubscribe();
      while (pumping) await sleep(20);
      const settled = () => Promise.allSettled([...active.values()].map((run) => run.done));
      await Promise.race([settled(), sleep(graceMs)]);
      for (const run of active.values()) {
        run.stoppedByShutdown = true;
        run.controller.abort(new Error(SHUTDOWN_DETAIL));
      }
      await Promise.race([settled(), sleep(ABORT_WAIT_MS)]);
      // An execute that ignored its signal: record the run cancelled without it.
      for (const runId of active.keys()) {
        const result = await finish(runId, { state: "cancelled", detail: SHUTDOWN_DETAIL });
        report(result?.run ?? null);
      }
      while (ticking) await sleep(20);
      await store.markWorkerStopped(id).catch(() => {});
      logger.info({ workerId: id }, "worker stopped");
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
