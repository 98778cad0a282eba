/**
 * Sealed cookies are stateless, so "logged out" and "this login state was used" are recorded here: an id
 * kept until the sealed value it names would have expired anyway. Shared by every server on one database.
 */
import type { Executor } from "./database.ts";

export interface AuthRevocations {
  /** Records `id` as used; false when it already was (a replay). */
  revoke(id: string, expiresAt: Date): Promise<boolean>;
  isRevoked(id: string): Promise<boolean>;
}

export function authRevocations(db: Executor): AuthRevocations {
  let lastPrune = 0;
  return {
    async revoke(id, expiresAt) {
      if (Date.now() - lastPrune > 60_000) {
        lastPrune = Date.now();
        await db.query("DELETE FROM auth_revocations WHERE expires_at < now()");
      }
      const rows = await db.query(
        "INSERT INTO auth_revocations (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id",
        [id, expiresAt.toISOString()],
      );
      return rows.length === 1;
    },
    async isRevoked(id) {
      const rows = await db.query("SELECT 1 FROM auth_revocations WHERE id = $1", [id]);
      return rows.length > 0;
    },
  };
}
