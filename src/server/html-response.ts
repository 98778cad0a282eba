/** Answers of the HTML pages (dashboard, run pages, login): the same security headers on every one. */
import type { ServerResponse } from "node:http";

/**
 * No scripts but our own (the run page's live log); forms only to this server; never framed, cached, or
 * leaking a Referer to another site.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // Not `no-referrer`: with it a browser sends `Origin: null` on our own logout form, which is refused.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

export type Headers = Readonly<Record<string, string | readonly string[]>>;

export function sendPage(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Headers = {},
) {
  res.writeHead(status, {
    ...PAGE_SECURITY_HEADERS,
    ...extra,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

export function sendHtml(res: ServerResponse, status: number, body: string, extra: Headers = {}) {
  sendPage(res, status, "text/html; charset=utf-8", body, extra);
}

/** A redirect (302 after GET, 303 after POST) to a URL this server built. */
export function redirect(res: ServerResponse, location: string, extra: Headers = {}, status = 302) {
  sendPage(res, status, "text/plain; charset=utf-8", `Redirecting to ${location}\n`, { ...extra, location });
}
