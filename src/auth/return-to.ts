/**
 * Where to send the browser after login: only a path on this server. Anything that a browser could read as
 * another origin (`//evil`, `/\evil`, `https://…`, control characters) falls back to the dashboard.
 */
export function safeReturnTo(raw: string | null | undefined): string {
  if (!raw || raw.length > 2048) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return "/";
  try {
    const resolved = new URL(raw, "http://deploy-bot.invalid");
    if (resolved.origin !== "http://deploy-bot.invalid") return "/";
    const path = `${resolved.pathname}${resolved.search}`;
    // Dot segments can leave `//host` behind (`/.//evil`), which a browser reads as another origin.
    if (path.startsWith("//") || resolved.pathname.startsWith("/auth/")) return "/";
    return path;
  } catch {
    return "/";
  }
}
