/**
 * The pg-boss side of runs: jobs carry run ids to workers. Every operation joins the caller's transaction,
 * so a run's state and its job change together.
 */
import { PgBoss } from "pg-boss";
import type { Database, Transaction } from "../store/database.ts";
import type { Logger } from "../store/logger.ts";
import { nextJobId } from "./job-id.ts";
import { ENVIRONMENT_QUEUE, ensureQueues, PLAIN_QUEUE, queueFor } from "./job-queues.ts";

export interface RunJobs {
  /**
   * Queues runs, in the order given, with one pg-boss insert per queue. Job ids come from a monotonic
   * generator: jobs inserted in one transaction share `created_on`, and the environment queue breaks that
   * tie by id, so monotonic ids keep deploys to one environment in arrival order.
   */
  enqueue(tx: Transaction, runs: readonly { id: string; environment: string | null }[]): Promise<void>;
  /**
   * A fetch on a key_strict_fifo queue can lose a race for a key to another worker (a unique violation
   * pg-boss reports as "nothing fetched"); on PostgreSQL that error would abort our whole transaction, so
   * each fetch runs in a savepoint that is rolled back when any of its statements failed.
   */
  fetch(
    tx: Transaction,
    queue: string,
    batchSize: number,
  ): Promise<{ id: string; data: { runId: string } }[]>;
  /** Marks a job done (no-op without one), releasing its environment. */
  complete(tx: Transaction, queue: string | null, jobId: string | null): Promise<void>;
  /** Stops pg-boss; the caller still closes the database. */
  stop(): Promise<void>;
  /** The pg-boss instance itself, for its cron schedules (`schedule-jobs.ts`). */
  readonly boss: PgBoss;
}

/** pg-boss's cron pass (one instance per pass, across workers) runs only when the config has schedules. */
const SCHEDULING = { schedule: true, cronMonitorIntervalSeconds: 10, cronWorkerIntervalSeconds: 2 } as const;

/** Starts pg-boss on `db` and creates the queues. */
export async function openRunJobs(db: Database, logger: Logger, scheduling = false): Promise<RunJobs> {
  const boss = new PgBoss({ ...db.bossOptions(), ...(scheduling ? SCHEDULING : { schedule: false }) });
  boss.on("error", (error) => logger.error({ err: error }, "pg-boss error"));
  await boss.start();
  await ensureQueues(boss);
  return {
    boss,
    async enqueue(tx, runs) {
      if (runs.length === 0) return;
      // Each run's job id is fixed before the insert, so runs and jobs are paired without reading back.
      const assigned = runs.map((run) => ({
        id: run.id,
        job_queue: queueFor(run.environment),
        job_id: nextJobId(),
      }));
      for (const queue of [ENVIRONMENT_QUEUE, PLAIN_QUEUE]) {
        const jobs = runs.flatMap((run, index) =>
          assigned[index]!.job_queue === queue
            ? [
                {
                  id: assigned[index]!.job_id,
                  data: { runId: run.id },
                  ...(run.environment === null ? {} : { singletonKey: run.environment }),
                },
              ]
            : [],
        );
        if (jobs.length > 0) await boss.insert(queue, jobs, { db: tx.bossDb });
      }
      await tx.query(
        `UPDATE runs SET job_queue = x.job_queue, job_id = x.job_id
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, job_queue text, job_id text) WHERE runs.id = x.id`,
        [JSON.stringify(assigned)],
      );
    },
    async fetch(tx, queue, batchSize) {
      let failed = false;
      const guarded = {
        async executeSql(text: string, values?: unknown[]) {
          try {
            return await tx.bossDb.executeSql(text, values);
          } catch (error) {
            failed = true;
            throw error;
          }
        },
      };
      await tx.query("SAVEPOINT deploybot_fetch");
      const jobs = await boss
        .fetch<{ runId: string }>(queue, { batchSize, db: guarded })
        .catch((error: unknown) => {
          failed = true;
          throw error;
        });
      if (failed) {
        await tx.query("ROLLBACK TO SAVEPOINT deploybot_fetch");
        return [];
      }
      await tx.query("RELEASE SAVEPOINT deploybot_fetch");
      return jobs;
    },
    async complete(tx, queue, jobId) {
      if (queue && jobId) await boss.complete(queue, jobId, null, { db: tx.bossDb });
    },
    async stop() {
      await boss.stop({ graceful: false, close: db.kind === "postgres", timeout: 5000 });
    },
  };
}
