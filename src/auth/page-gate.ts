/**
 * Who may open the dashboard and run pages. With GitHub login configured, the logged-in user (and only the
 * repositories they can read). Without it, the operator's `DASHBOARD_TOKEN` if set (as
 * `Authorization: Bearer`, a cookie, or once `?token=` which then sets the cookie), else anyone holding a run
 * link (run ids are 128 random bits).
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Headers, sendPage } from "../server/html-response.ts";
import { readCookie, setCookie } from "./cookies.ts";
import type { Login } from "./login-routes.ts";
import { ANYONE, type Viewer } from "./viewer.ts";

export interface Admitted {
  readonly viewer: Viewer;
  /** Headers to send with the page (the token cookie). */
  readonly headers: Headers;
}

/** Admits the request, or answers it (redirect to login, 401) and returns undefined. */
export type PageGate = (req: IncomingMessage, res: ServerResponse) => Promise<Admitted | undefined>;

export interface PageGates {
  /** Run pages and raw logs. */
  readonly runs: PageGate;
  /** The dashboard; undefined when there is no way to tell who is asking (no login, no token). */
  readonly dashboard: PageGate | undefined;
  /** True when the pages are behind GitHub login. */
  readonly login: boolean;
}

const TOKEN_COOKIE = "deploybot_token";
const OPEN: Admitted = { viewer: ANYONE, headers: {} };

export function createPageGates(options: {
  readonly login: Login | undefined;
  readonly dashboardToken: string | undefined;
  readonly secureCookie: boolean;
}): PageGates {
  const { login, dashboardToken } = options;
  if (login) {
    const gate: PageGate = async (req, res) => {
      const viewer = await login.viewerFor(req, res);
      return viewer ? { viewer, headers: {} } : undefined;
    };
    return { runs: gate, dashboard: gate, login: true };
  }
  if (!dashboardToken) {
    return { runs: async () => OPEN, dashboard: undefined, login: false };
  }
  const gate: PageGate = async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer && same(bearer, dashboardToken)) return OPEN;
    const cookie = readCookie(req.headers.cookie, TOKEN_COOKIE);
    if (cookie && same(safeDecode(cookie), dashboardToken)) return OPEN;
    const query = url.searchParams.get("token");
    if (query && same(query, dashboardToken)) {
      const value = encodeURIComponent(dashboardToken);
      return {
        viewer: ANYONE,
        headers: {
          "set-cookie": setCookie(TOKEN_COOKIE, value, {
            path: "/",
            maxAgeSeconds: 2_592_000,
            secure: options.secureCookie,
          }),
        },
      };
    }
    sendPage(
      res,
      401,
      "text/plain; charset=utf-8",
      "This deploy-bot requires DASHBOARD_TOKEN: open the link with ?token=…\n",
    );
    return undefined;
  };
  return { runs: gate, dashboard: gate, login: false };
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return "";
  }
}
