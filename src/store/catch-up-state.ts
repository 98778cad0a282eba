/**
 * Where the last catch-up walk ended, and the lease that lets one walker at a time call the deliveries API
 * (several servers on one PostgreSQL). A row lease, not an advisory lock: a walk makes HTTP calls for a
 * while, and the embedded database has one connection that must not be held by a long transaction.
 */
import type { RecordedDelivery } from "../catch-up/walk-plan.ts";
import type { Delivery } from "../events/delivery.ts";
import type { Executor } from "./database.ts";

export interface CatchUpState {
  /**
   * Takes the walk lease for `leaseMs` unless another holder's lease is still valid; returns where the last
   * completed walk ended (null: never), or `{ taken: false }`.
   */
  takeLease(
    owner: string,
    leaseMs: number,
  ): Promise<{ readonly taken: true; readonly walkedUntil: Date | null } | { readonly taken: false }>;
  /** Gives the lease back; `walkedUntil` (when given) is where this walk ended. */
  releaseLease(owner: string, walkedUntil: Date | null): Promise<void>;
  /** Records a recovered delivery that runs nothing because it is older than one already accepted. */
  recordStale(delivery: Delivery, reason: string): Promise<void>;
  /** Which of `guids` the store has recorded as deliveries, with their repository and ref. */
  recordedDeliveries(guids: readonly string[]): Promise<Map<string, RecordedDelivery>>;
}

export function catchUpState(db: Executor): CatchUpState {
  return {
    async takeLease(owner, leaseMs) {
      await db.query("INSERT INTO catch_up (id) VALUES (1) ON CONFLICT (id) DO NOTHING");
      const rows = await db.query<{ walked_until: Date | string | null }>(
        `UPDATE catch_up SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::float8)
         WHERE id = 1 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1)
         RETURNING walked_until`,
        [owner, leaseMs / 1000],
      );
      const row = rows[0];
      if (!row) return { taken: false };
      return { taken: true, walkedUntil: row.walked_until === null ? null : new Date(row.walked_until) };
    },
    async releaseLease(owner, walkedUntil) {
      await db.query(
        `UPDATE catch_up SET lease_owner = NULL, lease_until = NULL,
           walked_until = CASE WHEN $2::timestamptz IS NULL THEN walked_until
                               ELSE GREATEST(COALESCE(walked_until, $2::timestamptz), $2::timestamptz) END
         WHERE id = 1 AND lease_owner = $1`,
        [owner, walkedUntil?.toISOString() ?? null],
      );
    },
    async recordStale(delivery, reason) {
      await db.query(
        `INSERT INTO deliveries (id, event_name, outcome, reason) VALUES ($1, $2, 'ignored', $3)
         ON CONFLICT (id) DO NOTHING`,
        [delivery.id, delivery.name, reason],
      );
    },
    async recordedDeliveries(guids) {
      if (guids.length === 0) return new Map();
      const rows = await db.query<{ id: string; repo: string | null; ref: string | null; outcome: string }>(
        `SELECT id, repo, event->>'ref' AS ref, outcome FROM deliveries
         WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [JSON.stringify(guids)],
      );
      return new Map(
        rows.map((row) => [row.id, { repo: row.repo, ref: row.ref, planned: row.outcome === "planned" }]),
      );
    },
  };
}
