/** The deliveries table read back, and deliveries that run nothing written in bulk. */
import type { DeployEvent } from "../events/deploy-event.ts";
import type { AcceptDeliveryInput, DeliveryFields } from "../runs/accept-input.ts";
import { deliveryRow } from "../runs/plan-acceptance.ts";
import type { Executor } from "./database.ts";

export interface DeliveryRecord extends Omit<DeliveryFields, "deliveryId"> {
  readonly id: string;
  readonly receivedAt: Date;
}

export interface DeliveryRecords {
  getDelivery(id: string): Promise<DeliveryRecord | null>;
  /**
   * Records deliveries that run nothing, many in one statement (see `batchIgnoredDeliveries`). They are acknowledged
   * before this commits: losing one loses no work, and the hot path stays free of a commit per delivery.
   */
  recordIgnoredDeliveries(inputs: readonly AcceptDeliveryInput[]): Promise<void>;
}

export function deliveryRecords(db: Executor): DeliveryRecords {
  return {
    async getDelivery(id) {
      const rows = await db.query<{
        id: string;
        event_name: string;
        event: DeployEvent | null;
        repo: string | null;
        sha: string | null;
        outcome: "planned" | "ignored";
        reason: string | null;
        received_at: Date;
      }>("SELECT * FROM deliveries WHERE id = $1", [id]);
      const row = rows[0];
      if (!row) return null;
      return {
        id: row.id,
        eventName: row.event_name,
        event: row.event,
        repo: row.repo,
        sha: row.sha,
        outcome: row.outcome,
        reason: row.reason,
        receivedAt: new Date(row.received_at),
      };
    },
    async recordIgnoredDeliveries(inputs) {
      if (inputs.length === 0) return;
      await db.query(
        `INSERT INTO deliveries (id, event_name, event, repo, sha, outcome, reason)
       SELECT id, event_name, event, repo, sha, 'ignored', reason
       FROM jsonb_to_recordset($1::jsonb)
         AS x(id text, event_name text, event jsonb, repo text, sha text, reason text)
       ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(inputs.map(deliveryRow))],
      );
    },
  };
}
