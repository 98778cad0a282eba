/** Pure decision: which workers holding `running` runs are gone, and how to say so. */

export interface WorkerRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly stopped: boolean;
  /** No heartbeat for longer than the staleness limit. */
  readonly stale: boolean;
}

export interface DeadWorkerContext {
  /** This process's worker id. */
  readonly self: string;
  readonly host: string;
  /** At start-up, runs still `running` under our own id belong to our previous incarnation. */
  readonly startingUp: boolean;
  /** Embedded storage is opened by one process at a time, so any other worker is gone. */
  readonly embedded: boolean;
  /** Whether a process id on this host is alive. */
  readonly isAlive: (pid: number) => boolean;
}

export const RESTART_DETAIL = "Interrupted by a restart";

/** The detail to end a dead worker's runs with, or `null` while the worker is alive. */
export function deadWorkerDetail(
  workerId: string,
  row: WorkerRow | undefined,
  context: DeadWorkerContext,
): string | null {
  if (workerId === context.self) return context.startingUp ? RESTART_DETAIL : null;
  if (!row || row.stopped || context.embedded) return RESTART_DETAIL;
  if (row.host === context.host && !context.isAlive(row.pid)) return RESTART_DETAIL;
  if (row.stale) return `Worker ${workerId} stopped responding`;
  return null;
}
