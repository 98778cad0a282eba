/**
 * `GET /runs/:id` (HTML) and `GET /runs/:id/log` (text). The run id is 128 random bits, so the link in a
 * commit status is the capability to read that run; `DASHBOARD_TOKEN` adds a shared secret on top for
 * operators who do not want logs readable by anyone holding a link.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { renderRunNotFound, renderRunPage } from "../report/render-run-page.ts";
import type { RunRecord } from "../runs/run.ts";

export interface RunPageDeps {
  readonly getRun: (id: string) => Promise<RunRecord | undefined>;
  readonly readLog: (runId: string, stepIndex?: number) => Promise<string>;
  readonly dashboardToken: string | undefined;
  /** Mark the token cookie `Secure` (PUBLIC_URL is https). */
  readonly secureCookie: boolean;
}

const RUN_PATH = /^\/runs\/([A-Za-z0-9_-]{16,64})(\/log)?\/?$/;
const COOKIE = "deploybot_token";

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

/** Returns a router for the run pages: it answers (and returns true) only for paths under `/runs/`. */
export function createRunPageRoutes(deps: RunPageDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith("/runs/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain; charset=utf-8", "Method Not Allowed\n");
      return true;
    }
    const match = RUN_PATH.exec(url.pathname);
    const auth = authorise(req, url, deps.dashboardToken);
    if (auth === "denied") {
      send(
        res,
        401,
        "text/plain; charset=utf-8",
        "This deploy-bot requires DASHBOARD_TOKEN: open the link with ?token=…\n",
      );
      return true;
    }
    const run = match?.[1] ? await deps.getRun(match[1]) : undefined;
    if (!run) {
      send(res, 404, "text/html; charset=utf-8", renderRunNotFound());
      return true;
    }
    const extra: Record<string, string> =
      auth === "set-cookie" ? { "set-cookie": cookieFor(deps.dashboardToken ?? "", deps.secureCookie) } : {};
    if (match?.[2]) {
      send(res, 200, "text/plain; charset=utf-8", await deps.readLog(run.id), extra);
      return true;
    }
    const logs = new Map<number, string>();
    for (const step of run.steps) logs.set(step.index, await deps.readLog(run.id, step.index));
    send(res, 200, "text/html; charset=utf-8", renderRunPage({ run, logs, now: new Date() }), extra);
    return true;
  };
}

type Authorisation = "open" | "granted" | "set-cookie" | "denied";

function authorise(req: IncomingMessage, url: URL, token: string | undefined): Authorisation {
  if (!token) return "open";
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer && same(bearer, token)) return "granted";
  const cookie = (req.headers.cookie ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === COOKIE)?.[1];
  if (cookie && same(decodeURIComponent(cookie), token)) return "granted";
  const query = url.searchParams.get("token");
  if (query && same(query, token)) return "set-cookie";
  return "denied";
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieFor(token: string, secureCookie: boolean): string {
  const secure = secureCookie ? "; Secure" : "";
  return `${COOKIE}=${encodeURIComponent(token)}; Path=/runs; HttpOnly; SameSite=Lax; Max-Age=2592000${secure}`;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
