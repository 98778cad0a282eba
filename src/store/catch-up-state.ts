/**
 * Where the last catch-up walk ended, and the lease that lets one walker at a time call the deliveries API
 * (several servers on one PostgreSQL). A row lease, not an advisory lock: a walk makes HTTP calls for a
 * while, and the embedded database has one connection that must not be held by a long transaction.
 */
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
  /** Which of `guids` the store has recorded as deliveries. */
  recordedDeliveries(guids: readonly string[]): Promise<Set<string>>;
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
    async recordedDeliveries(guids) {
      if (guids.length === 0) return new Set();
      const rows = await db.query<{ id: string }>(
        "SELECT id FROM deliveries WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
        [JSON.stringify(guids)],
      );
      return new Set(rows.map((row) => row.id));
    },
  };
}
