/** Reads runs back as `RunRecord`s: the one place rows become records. */
import type { DeployEvent } from "../events/deploy-event.ts";
import type { RunRecord, RunState, StepState } from "../runs/run.ts";
import type { Executor, Row } from "./database.ts";

interface RunRow extends Row {
  id: string;
  delivery_id: string;
  pipeline: string;
  environment: string | null;
  needs: string[];
  state: RunState;
  detail: string | null;
  event: DeployEvent;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  environment_url: string | null;
  rollback_of: string | null;
}

interface StepRow extends Row {
  run_id: string;
  idx: number;
  name: string;
  state: StepState;
  exit_code: number | null;
  started_at: Date | null;
  finished_at: Date | null;
}

const toDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** Reads runs (with their event and steps) in the order of `ids`. */
export async function loadRuns(db: Executor, ids: readonly string[]): Promise<RunRecord[]> {
  if (ids.length === 0) return [];
  const list = JSON.stringify(ids);
  const runRows = await db.query<RunRow>(
    `SELECT r.id, r.delivery_id, r.pipeline, r.environment, r.needs, r.state, r.detail, d.event,
            r.created_at, r.started_at, r.finished_at, r.environment_url, r.rollback_of
     FROM runs r JOIN deliveries d ON d.id = r.delivery_id
     WHERE r.id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [list],
  );
  const stepRows = await db.query<StepRow>(
    "SELECT * FROM steps WHERE run_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY run_id, idx",
    [list],
  );
  const byId = new Map(runRows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    const record: RunRecord = {
      id: row.id,
      deliveryId: row.delivery_id,
      pipeline: row.pipeline,
      environment: row.environment,
      needs: row.needs,
      state: row.state,
      detail: row.detail,
      event: row.event,
      steps: stepRows
        .filter((step) => step.run_id === id)
        .map((step) => ({
          index: step.idx,
          name: step.name,
          state: step.state,
          exitCode: step.exit_code,
          startedAt: toDate(step.started_at),
          finishedAt: toDate(step.finished_at),
        })),
      createdAt: new Date(row.created_at),
      startedAt: toDate(row.started_at),
      finishedAt: toDate(row.finished_at),
      environmentUrl: row.environment_url,
      ...(row.rollback_of ? { rollbackOf: row.rollback_of } : {}),
    };
    return [record];
  });
}

/** Every run of a delivery, in the order they were recorded. */
export async function runsForDelivery(db: Executor, deliveryId: string): Promise<RunRecord[]> {
  const rows = await db.query<{ id: string }>("SELECT id FROM runs WHERE delivery_id = $1 ORDER BY seq", [
    deliveryId,
  ]);
  return loadRuns(
    db,
    rows.map((row) => row.id),
  );
}
