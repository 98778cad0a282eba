/**
 * What the bot knows of each run's GitHub Deployment: its id once created, when a create was last attempted
 * (so a retry after a crash looks for the deployment before making a second one), and the last status posted.
 */
import type { Executor } from "./database.ts";

export interface RunDeployment {
  readonly deploymentId: number | null;
  /** Set before a create request is sent; with no `deploymentId` it means "maybe created: look first". */
  readonly createStarted: boolean;
  /** The key of the last status posted (see `deploy/deployment-state.ts`), or null. */
  readonly lastStatus: string | null;
}

export interface RunDeployments {
  get(runId: string): Promise<RunDeployment | null>;
  /** Records that a create request is about to be sent. */
  markCreating(runId: string): Promise<void>;
  setDeploymentId(runId: string, deploymentId: number): Promise<void>;
  setLastStatus(runId: string, key: string): Promise<void>;
}

export function runDeployments(db: Executor): RunDeployments {
  return {
    async get(runId) {
      const rows = await db.query<{
        deployment_id: string | number | null;
        create_started_at: Date | null;
        last_status: string | null;
      }>("SELECT deployment_id, create_started_at, last_status FROM run_deployments WHERE run_id = $1", [
        runId,
      ]);
      const row = rows[0];
      if (!row) return null;
      return {
        deploymentId: row.deployment_id === null ? null : Number(row.deployment_id),
        createStarted: row.create_started_at !== null,
        lastStatus: row.last_status,
      };
    },
    async markCreating(runId) {
      await db.query(
        `INSERT INTO run_deployments (run_id, create_started_at) VALUES ($1, now())
         ON CONFLICT (run_id) DO UPDATE SET create_started_at = now(), updated_at = now()`,
        [runId],
      );
    },
    async setDeploymentId(runId, deploymentId) {
      await db.query(
        `INSERT INTO run_deployments (run_id, deployment_id) VALUES ($1, $2)
         ON CONFLICT (run_id) DO UPDATE SET deployment_id = $2, updated_at = now()`,
        [runId, deploymentId],
      );
    },
    async setLastStatus(runId, key) {
      await db.query("UPDATE run_deployments SET last_status = $2, updated_at = now() WHERE run_id = $1", [
        runId,
        key,
      ]);
    },
  };
}
