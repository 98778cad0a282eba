/** Adapts a transaction's raw statement runners to pg-boss's `IDatabase`, so pg-boss writes join it. */
import type { Db as IDatabase } from "pg-boss";

export interface RawRunner {
  /** A single statement with parameters. */
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>;
  /** Parameterless text that may hold several statements; one row list per statement. */
  exec(sql: string): Promise<{ rows: unknown[] }[]>;
}

/**
 * pg-boss sends parameterless multi-statement text as well as single parameterised statements; the
 * first needs the simple protocol. Rows of every statement are flattened, as pg-boss's own driver does.
 */
export function bossExecutor(runner: RawRunner): IDatabase {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (values && values.length > 0) return { rows: (await runner.query(text, values)).rows };
      const results = await runner.exec(text);
      return { rows: results.flatMap((result) => result.rows ?? []) };
    },
  };
}
