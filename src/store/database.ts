/**
 * One small interface over the two storage engines (embedded PGlite, real PostgreSQL), so the store and
 * the queue run the very same SQL on both.
 */
import type { ConstructorOptions, Db as IDatabase } from "pg-boss";

export type Row = Record<string, unknown>;

/** Runs one SQL statement with `$1`-style parameters and returns its rows. */
export interface Executor {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** A statement executor bound to one open transaction. */
export interface Transaction extends Executor {
  /** Runs a parameterless, possibly multi-statement script (migrations). */
  exec(sql: string): Promise<void>;
  /** The same transaction as pg-boss sees it: pass it as `{ db }` so jobs commit with our rows. */
  readonly bossDb: IDatabase;
}

export interface Database extends Executor {
  readonly kind: "pglite" | "postgres";
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. On PGlite
   * (one connection) transactions are serialised; never call the outer `query` from inside `fn`.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** pg-boss constructor options that point pg-boss at this same database. */
  bossOptions(): ConstructorOptions;
  close(): Promise<void>;
}
