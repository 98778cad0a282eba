/**
 * The store's `onChange` for Deployments: every change of a run of a pipeline with an environment records, in
 * the same transaction, one outbox message keyed by the run (coalesced: the handler, `sync-deployment.ts`,
 * makes GitHub match the run's *current* state, so only the newest message matters).
 */
import { enqueueOutbox } from "../outbox/outbox.ts";
import type { Transaction } from "../store/database.ts";
import type { RunChange } from "../store/run-changes.ts";

export const DEPLOYMENT_TOPIC = "deployment";

export interface DeploymentMessage {
  readonly runId: string;
  readonly deliveryId: string;
}

export async function enqueueDeployments(tx: Transaction, change: RunChange): Promise<void> {
  const rows = await tx.query<{ id: string; delivery_id: string }>(
    `SELECT id, delivery_id FROM runs
     WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND environment IS NOT NULL`,
    [JSON.stringify(change.runIds)],
  );
  await enqueueOutbox(
    tx,
    rows.map((row) => {
      const payload: DeploymentMessage = { runId: row.id, deliveryId: row.delivery_id };
      return { topic: DEPLOYMENT_TOPIC, key: row.id, payload };
    }),
  );
}
