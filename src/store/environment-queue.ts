/** Who holds an environment and who waits for it: what the PR comment shows for a deploy waiting in line. */
import { ENVIRONMENT_QUEUE } from "../queue/job-queues.ts";
import type { Executor } from "./database.ts";

export interface EnvironmentQueue {
  /** The run deploying to the environment now, or null when none runs. */
  readonly running: { readonly runId: string; readonly sha: string } | null;
  /** Ids of the runs queued for the environment (with a job), first in line first. */
  readonly queued: readonly string[];
}

/**
 * The environment's running run and its queued runs in job order (job ids are UUIDv7, ordered by creation,
 * the order the environment queue takes them in). Queued runs still waiting for their needs have no job and
 * are not in line.
 */
export async function environmentQueue(db: Executor, environment: string): Promise<EnvironmentQueue> {
  const rows = await db.query<{ id: string; sha: string; state: string }>(
    `SELECT id, sha, state FROM runs
     WHERE environment = $1 AND (state = 'running'
       OR (state = 'queued' AND job_queue = $2 AND job_id IS NOT NULL))
     ORDER BY state = 'running' DESC, job_id, seq`,
    [environment, ENVIRONMENT_QUEUE],
  );
  const running = rows.find((row) => row.state === "running");
  return {
    running: running ? { runId: running.id, sha: running.sha } : null,
    queued: rows.filter((row) => row.state === "queued").map((row) => row.id),
  };
}

/**
 * Runs in line for the environments of `runIds` (runs a worker just claimed): the queue moved, so their PR
 * comments' "Waiting for …" lines are due again although their own state did not change.
 */
export async function runsInLineBehind(
  db: Executor,
  runIds: readonly string[],
): Promise<{ delivery_id: string; repo: string; pr_number: number | null }[]> {
  if (runIds.length === 0) return [];
  return db.query<{ delivery_id: string; repo: string; pr_number: number | null }>(
    `SELECT delivery_id, repo, pr_number FROM runs
     WHERE state = 'queued' AND job_queue = $2 AND job_id IS NOT NULL AND environment IN (
       SELECT environment FROM runs
       WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND environment IS NOT NULL)
     ORDER BY seq`,
    [JSON.stringify(runIds), ENVIRONMENT_QUEUE],
  );
}
