/** A run's step states and output: written by the runner as it goes, read by run pages and reports. */
import { lastLines } from "../report/log-tail.ts";
import type { StepUpdate } from "../runs/run.ts";
import type { Database, Executor } from "./database.ts";
import { createRunLogSink, type LogSinkOptions, type RunLogSink } from "./log-sink.ts";
import type { Logger } from "./logger.ts";
import type { OnRunChange } from "./run-changes.ts";

export interface RunLogs {
  readLog(runId: string, stepIndex?: number): Promise<string>;
  logTail(runId: string, stepIndex: number, lines: number): Promise<string>;
  createRunLogSink(runId: string, options?: LogSinkOptions): RunLogSink;
  updateStep(runId: string, update: StepUpdate): Promise<void>;
}

/** With `onChange`, a step update and what follows it commit in one transaction. */
export function runLogs(db: Database, logger: Logger, onChange?: OnRunChange): RunLogs {
  return {
    readLog: (runId, stepIndex) => readLog(db, runId, stepIndex),
    async logTail(runId, stepIndex, lines) {
      return lastLines(await readLog(db, runId, stepIndex), lines).join("\n");
    },
    createRunLogSink(runId, sinkOptions) {
      return createRunLogSink(
        async (id, stepIndex, text) => {
          await db.query("INSERT INTO logs (run_id, step_index, text) VALUES ($1, $2, $3)", [
            id,
            stepIndex,
            text,
          ]);
        },
        runId,
        { logger, ...sinkOptions },
      );
    },
    async updateStep(runId, update) {
      const write = (executor: Executor) =>
        executor.query(
          `UPDATE steps SET state = $3::text,
             exit_code = COALESCE($4::integer, exit_code),
             started_at = CASE WHEN $3::text = 'pending' THEN started_at ELSE COALESCE(started_at, now()) END,
             finished_at = CASE WHEN $3::text IN ('pending', 'running') THEN NULL ELSE now() END
           WHERE run_id = $1 AND idx = $2`,
          [runId, update.index, update.state, update.exitCode ?? null],
        );
      if (!onChange) {
        await write(db);
        return;
      }
      await db.transaction(async (tx) => {
        await write(tx);
        await onChange(tx, { cause: "step", runIds: [runId] });
      });
    },
  };
}

async function readLog(db: Executor, runId: string, stepIndex?: number): Promise<string> {
  const rows = await db.query<{ text: string }>(
    "SELECT text FROM logs WHERE run_id = $1 AND ($2::integer IS NULL OR step_index = $2::integer) ORDER BY seq",
    [runId, stepIndex ?? null],
  );
  return rows.map((row) => row.text).join("");
}
