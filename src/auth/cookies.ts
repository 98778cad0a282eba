/** Reading the `Cookie` header and writing `Set-Cookie`, for the login's two cookies. */

/** The value of cookie `name`, or undefined; the first one wins when a name repeats. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 16_384) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  readonly path: string;
  /** Seconds; 0 deletes the cookie. */
  readonly maxAgeSeconds: number;
  /** `Secure` (PUBLIC_URL is https). */
  readonly secure: boolean;
}

/** An HttpOnly, SameSite=Lax cookie; values here are sealed (base64url), so they need no quoting. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const secure = options.secure ? "; Secure" : "";
  return `${name}=${value}; Path=${options.path}; Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}; HttpOnly; SameSite=Lax${secure}`;
}
