/** Runs of a repository that have not finished: what a scheduled tick checks before it runs (no pile-up). */
import type { ActiveRun } from "../runs/schedule-ticks.ts";
import type { Executor } from "./database.ts";

/** The repository's queued, running or approval-waiting runs of the given pipelines (case-insensitive repo). */
export async function activeRuns(
  db: Executor,
  repo: string,
  pipelines: readonly string[],
): Promise<ActiveRun[]> {
  if (pipelines.length === 0) return [];
  return db.query<{ id: string; pipeline: string; state: ActiveRun["state"] }>(
    `SELECT id, pipeline, state FROM runs
     WHERE lower(repo) = lower($1) AND state IN ('queued', 'running', 'awaiting_approval')
       AND pipeline IN (SELECT jsonb_array_elements_text($2::jsonb))
     ORDER BY seq`,
    [repo, JSON.stringify(pipelines)],
  );
}
