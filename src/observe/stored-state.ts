/**
 * What `/readyz` and the `deploybot_runs_queued` gauge read from the database. Plain SQL over the shared
 * `Executor`, so it works the same on PGlite and PostgreSQL and needs nothing from the run store.
 */
import type { Executor } from "../store/database.ts";

/** pg-boss's default schema, where the queue's tables live. */
const BOSS_SCHEMA = "pgboss";

export async function countQueuedRuns(db: Executor): Promise<number> {
  const rows = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE state = 'queued'");
  return Number(rows[0]?.n ?? 0);
}

/** Throws unless both our tables and pg-boss's answer a query. */
export async function checkDatabaseAndQueue(db: Executor): Promise<void> {
  await countQueuedRuns(db);
  await db.query(`SELECT 1 FROM ${BOSS_SCHEMA}.version LIMIT 1`);
}
