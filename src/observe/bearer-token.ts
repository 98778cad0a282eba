/** The `METRICS_TOKEN` check: `Authorization: Bearer <token>`, compared in constant time. */
import { createHash, timingSafeEqual } from "node:crypto";

/** Longer headers are refused before any comparison (a token is far shorter). */
export const MAX_AUTHORIZATION_LENGTH = 1024;

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * True only for `Bearer <token>` with exactly this token. Both sides are hashed first so the comparison
 * takes the same time whatever the presented length.
 */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  if (authorization === undefined || authorization.length > MAX_AUTHORIZATION_LENGTH) return false;
  const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), digest(token));
}
