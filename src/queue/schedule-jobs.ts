/**
 * Scheduled rules on the queue engine's own cron schedules: one pg-boss schedule per rule × repository ×
 * cron entry. pg-boss's cron pass runs on one instance at a time and files each occurrence once (so with
 * several workers a tick fires once), and `missed: "once"` turns ticks missed while every worker was down
 * into one job at start-up. A tick job is taken by one worker; its delivery id (`tickDeliveryId`) makes a
 * second firing of the same tick a duplicate the store drops.
 */
import { createHash } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type { ScheduledTick } from "../runs/schedule-ticks.ts";
import type { Logger } from "../store/logger.ts";

export const TICK_QUEUE = "deploybot-schedule-ticks";

export interface Scheduler {
  /** Stops taking tick jobs and waits for the one in hand. */
  stop(): Promise<void>;
}

/** pg-boss keys allow `[\w.\-/]` only and rule names have spaces: the key is a digest of what the tick is. */
export function scheduleKey(tick: ScheduledTick): string {
  const identity = JSON.stringify([tick.rule, tick.repo.toLowerCase(), tick.branch ?? null, tick.cron]);
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

/**
 * Makes the engine's schedules those of `ticks` (upserts them, removes schedules no longer in the config)
 * and, when `onTick` is given, takes tick jobs: `firedAt` is when the engine filed the job.
 */
export async function startScheduler(
  boss: PgBoss,
  ticks: readonly ScheduledTick[],
  onTick: ((tick: ScheduledTick, firedAt: Date) => Promise<void>) | undefined,
  logger: Logger,
): Promise<Scheduler> {
  const exists = (await boss.getQueue(TICK_QUEUE)) !== null;
  if (!exists && ticks.length === 0) return { stop: async () => {} };
  if (!exists) {
    try {
      // A failed tick (GitHub unreachable) is tried again; its delivery id keeps a retry from running twice.
      await boss.createQueue(TICK_QUEUE, {
        retryLimit: 2,
        retryDelay: 10,
        expireInSeconds: 300,
        deleteAfterSeconds: 24 * 60 * 60,
      });
    } catch (error) {
      if (!(await boss.getQueue(TICK_QUEUE))) throw error;
    }
  }
  const wanted = new Map(ticks.map((tick) => [scheduleKey(tick), tick]));
  for (const existing of await boss.getSchedules(TICK_QUEUE)) {
    if (!wanted.has(existing.key)) await boss.unschedule(TICK_QUEUE, existing.key);
  }
  for (const [key, tick] of wanted) {
    await boss.schedule(TICK_QUEUE, tick.cron, { ...tick }, { key, tz: "UTC", missed: "once" });
  }
  if (ticks.length > 0) logger.info({ schedules: ticks.length }, "scheduled rules registered");
  if (!onTick || ticks.length === 0) return { stop: async () => {} };

  const options = { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: 2 } as const;
  await boss.work<ScheduledTick, unknown, typeof options>(TICK_QUEUE, options, async (jobs) => {
    for (const job of jobs) await onTick(job.data, job.createdOn);
  });
  return { stop: () => boss.offWork(TICK_QUEUE, { wait: true }) };
}
