import { createHmac, timingSafeEqual } from "node:crypto";

const PREFIX = "sha256=";
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks GitHub's `X-Hub-Signature-256` header (`sha256=<hex>`) against the raw request bytes.
 *
 * Why this shape: the HMAC must cover the exact bytes GitHub sent (never a re-serialised payload), only
 * SHA-256 is accepted (the legacy SHA-1 `X-Hub-Signature` is refused), the comparison is constant-time, and
 * several secrets may be valid at once so that `WEBHOOK_SECRET` can be rotated through
 * `WEBHOOK_SECRET_PREVIOUS` without dropping deliveries. Empty secrets never verify anything.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  if (header === undefined || !header.startsWith(PREFIX)) return false;
  const hex = header.slice(PREFIX.length);
  if (!HEX_SHA256.test(hex)) return false;
  const given = Buffer.from(hex, "hex");
  let valid = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = createHmac("sha256", secret).update(rawBody).digest();
    // Both are 32 bytes; no early exit so the time does not depend on which secret matched.
    if (timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}

/** Computes the `X-Hub-Signature-256` value GitHub would send for `body`; for tests, benches and tools. */
export function signatureFor(body: Buffer | string, secret: string): string {
  return `${PREFIX}${createHmac("sha256", secret).update(body).digest("hex")}`;
}
