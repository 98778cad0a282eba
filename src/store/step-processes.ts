/**
 * The process groups of running steps, by host and boot, so that after the bot is killed (`kill -9`, OOM)
 * the next start can end whatever its steps left running (`src/exec/kill-orphans.ts`).
 */
import type { Executor } from "./database.ts";

export interface StepProcessRow {
  readonly runId: string;
  readonly pgid: number;
  readonly bootId: string;
}

export interface StepProcesses {
  started(runId: string, pgid: number): Promise<void>;
  ended(runId: string, pgid: number): Promise<void>;
  /** Groups recorded on this host whose run is no longer running (ended, or interrupted by a recovery). */
  leftovers(): Promise<StepProcessRow[]>;
  forget(rows: readonly StepProcessRow[]): Promise<void>;
}

/** `host` is `os.hostname()`, `bootId` the kernel's (`/proc/sys/kernel/random/boot_id`): pids mean nothing across boots. */
export function stepProcesses(
  db: Executor,
  where: { readonly host: string; readonly bootId: string },
): StepProcesses {
  const { host, bootId } = where;
  return {
    async started(runId, pgid) {
      await db.query(
        `INSERT INTO step_processes (run_id, pgid, host, boot_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, pgid) DO NOTHING`,
        [runId, pgid, host, bootId],
      );
    },
    async ended(runId, pgid) {
      await db.query("DELETE FROM step_processes WHERE run_id = $1 AND pgid = $2", [runId, pgid]);
    },
    async leftovers() {
      const rows = await db.query<{ run_id: string; pgid: number; boot_id: string }>(
        `SELECT p.run_id, p.pgid, p.boot_id FROM step_processes p JOIN runs r ON r.id = p.run_id
         WHERE p.host = $1 AND r.state <> 'running'`,
        [host],
      );
      return rows.map((row) => ({ runId: row.run_id, pgid: Number(row.pgid), bootId: row.boot_id }));
    },
    async forget(rows) {
      if (rows.length === 0) return;
      await db.query(
        `DELETE FROM step_processes p USING jsonb_to_recordset($1::jsonb) AS x(run_id text, pgid integer)
         WHERE p.run_id = x.run_id AND p.pgid = x.pgid`,
        [JSON.stringify(rows.map((row) => ({ run_id: row.runId, pgid: row.pgid })))],
      );
    },
  };
}
