/** The two pg-boss queues runs travel through, and the job options that keep pg-boss from second-guessing us. */
import type { PgBoss, Queue } from "pg-boss";

/** Runs that name an environment: one at a time per environment (the singletonKey), in arrival order. */
export const ENVIRONMENT_QUEUE = "deploybot-environment-runs";
/** Runs without an environment: any number at once, bounded only by each worker's concurrency. */
export const PLAIN_QUEUE = "deploybot-runs";

/**
 * No automatic retry (a re-run is the store's decision, made once, on recovery) and the longest expiry
 * pg-boss allows: our own worker heartbeat detects dead workers and settles their jobs long before.
 */
const COMMON: Omit<Queue, "name"> = {
  retryLimit: 0,
  expireInSeconds: 24 * 60 * 60,
  deleteAfterSeconds: 24 * 60 * 60,
};

/** Creates both queues (idempotent) and loads them into pg-boss's cache before any transaction needs them. */
export async function ensureQueues(boss: PgBoss): Promise<void> {
  for (const [name, policy] of [
    [ENVIRONMENT_QUEUE, "key_strict_fifo"],
    [PLAIN_QUEUE, "standard"],
  ] as const) {
    if (!(await boss.getQueue(name))) {
      try {
        await boss.createQueue(name, { ...COMMON, policy });
      } catch (error) {
        // Another process created it between our check and our create.
        if (!(await boss.getQueue(name))) throw error;
      }
    }
    // Warms pg-boss's queue cache: inside a PGlite transaction a cache miss would wait for the very
    // connection the transaction holds.
    await boss.findJobs(name, { key: "deploybot-warm-cache", limit: 1 });
  }
}

export function queueFor(environment: string | null): string {
  return environment === null ? PLAIN_QUEUE : ENVIRONMENT_QUEUE;
}
