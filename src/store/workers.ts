/** The workers table: who holds runs, from which host and process, and when each last showed signs of life. */
import type { Executor } from "./database.ts";

export interface WorkerRegistry {
  registerWorker(workerId: string): Promise<void>;
  heartbeat(workerId: string): Promise<void>;
  markWorkerStopped(workerId: string): Promise<void>;
}

export function workerRegistry(db: Executor, host: string): WorkerRegistry {
  return {
    async registerWorker(workerId) {
      await db.query(
        `INSERT INTO workers (id, host, pid) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3, started_at = now(), heartbeat_at = now(), stopped_at = NULL`,
        [workerId, host, process.pid],
      );
    },
    async heartbeat(workerId) {
      await db.query("UPDATE workers SET heartbeat_at = now() WHERE id = $1", [workerId]);
    },
    async markWorkerStopped(workerId) {
      await db.query("UPDATE workers SET stopped_at = now() WHERE id = $1", [workerId]);
    },
  };
}
