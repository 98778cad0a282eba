/**
 * Sealed values for cookies: JSON encrypted and authenticated with AES-256-GCM (node:crypto) under a key
 * derived from `SESSION_SECRET`, carrying its own expiry. A sealed value is bound to its purpose (the cookie
 * it was made for) through the additional authenticated data, so a login `state` cookie can never be
 * presented as a session. Nothing in it is readable or changeable without the key.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

export type Unsealed<T> =
  | { readonly ok: true; readonly value: T; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: "malformed" | "tampered" | "expired" };

export interface Sealer {
  /** Seals `value` for `purpose`, valid for `ttlMs` from `now`. */
  seal(purpose: string, value: unknown, ttlMs: number, now?: Date): string;
  /** Opens a sealed value made for `purpose`; anything else (wrong key, edited, expired) is refused. */
  unseal<T>(purpose: string, sealed: string, now?: Date): Unsealed<T>;
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Larger than any cookie a browser keeps; longer input is refused before any work. */
const MAX_SEALED_LENGTH = 4096;

export function createSealer(secret: string): Sealer {
  const key = Buffer.from(hkdfSync("sha256", secret, "deploy-bot sealed cookies", "aes-256-gcm v1", 32));
  const aad = (purpose: string) => Buffer.from(`deploy-bot:${purpose}`, "utf8");
  return {
    seal(purpose, value, ttlMs, now = new Date()) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(aad(purpose));
      const plain = Buffer.from(JSON.stringify({ e: now.getTime() + ttlMs, v: value }), "utf8");
      const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${body.toString("base64url")}`;
    },
    unseal<T>(purpose: string, sealed: string, now = new Date()): Unsealed<T> {
      if (sealed.length > MAX_SEALED_LENGTH || !sealed.startsWith(`${VERSION}.`))
        return { ok: false, reason: "malformed" };
      const encoded = sealed.slice(VERSION.length + 1);
      if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { ok: false, reason: "malformed" };
      const body = Buffer.from(encoded, "base64url");
      // Only the canonical encoding: no two strings open to the same value.
      if (body.toString("base64url") !== encoded) return { ok: false, reason: "malformed" };
      if (body.length < IV_BYTES + TAG_BYTES + 1) return { ok: false, reason: "malformed" };
      let plain: Buffer;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, IV_BYTES), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aad(purpose));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        plain = Buffer.concat([
          decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        return { ok: false, reason: "tampered" };
      }
      const parsed = JSON.parse(plain.toString("utf8")) as { e: number; v: T };
      if (!(typeof parsed.e === "number" && parsed.e > now.getTime()))
        return { ok: false, reason: "expired" };
      return { ok: true, value: parsed.v, expiresAt: new Date(parsed.e) };
    },
  };
}
