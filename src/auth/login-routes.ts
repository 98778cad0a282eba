/**
 * GitHub login (the App's OAuth web flow) and the gate in front of the dashboard and run pages:
 * - `GET /auth/login[?return_to=/path]`: a fresh random `state`, sealed into a short-lived cookie bound to
 *   this browser, and a redirect to GitHub's authorize page;
 * - `GET /auth/callback?code&state`: the state must match this browser's cookie and be unused (a replayed
 *   callback is refused), the code is exchanged for the user's token, and a sealed, expiring session cookie
 *   is set (HttpOnly, SameSite=Lax, Secure under https);
 * - `POST /auth/logout`: the session is revoked server-side (its cookie no longer opens anything, even if
 *   kept), the user's GitHub token is revoked at GitHub, and the cookie cleared.
 * `viewerFor` turns a request into a {@link Viewer} with the repositories the user can read (asked of GitHub
 * with the user's token, cached for minutes), or answers it with a redirect to the login.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExtraRoutes } from "../server/front-door.ts";
import { redirect, sendHtml } from "../server/html-response.ts";
import type { AuthRevocations } from "../store/auth-revocations.ts";
import type { Logger } from "../store/logger.ts";
import { readCookie, setCookie } from "./cookies.ts";
import { type GitHubUserApi, TokenRejected } from "./github-user.ts";
import { renderAuthPage } from "./render-auth-page.ts";
import type { RepoAccess } from "./repo-access.ts";
import { safeReturnTo } from "./return-to.ts";
import type { Sealer } from "./seal.ts";
import type { Viewer } from "./viewer.ts";

export const SESSION_COOKIE = "deploybot_session";
export const STATE_COOKIE = "deploybot_login";
const SESSION_PURPOSE = "session";
const STATE_PURPOSE = "login-state";
const STATE_TTL_MS = 10 * 60_000;
/** GitHub App user tokens expire after eight hours; the session does not outlive them. */
const DEFAULT_SESSION_TTL_MS = 8 * 3600_000;
const CODE_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  readonly sid: string;
  readonly login: string;
  readonly token: string;
}

interface LoginState {
  readonly state: string;
  readonly returnTo: string;
}

export interface LoginDeps {
  readonly github: GitHubUserApi;
  /** `PUBLIC_URL`: the callback is `<publicUrl>/auth/callback`. */
  readonly publicUrl: string;
  readonly sealer: Sealer;
  readonly revocations: AuthRevocations;
  readonly access: RepoAccess;
  readonly logger: Logger;
  readonly sessionTtlMs?: number;
}

export interface Login {
  /** Answers `/auth/*`. */
  readonly routes: ExtraRoutes;
  /** The request's viewer, or undefined when it has been answered (redirect to login, error page). */
  viewerFor(req: IncomingMessage, res: ServerResponse): Promise<Viewer | undefined>;
}

export function createLogin(deps: LoginDeps): Login {
  const secure = deps.publicUrl.startsWith("https:");
  const callbackUrl = `${deps.publicUrl}/auth/callback`;
  const publicOrigin = new URL(deps.publicUrl).origin;
  const sessionTtlMs = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const clearSession = setCookie(SESSION_COOKIE, "", { path: "/", maxAgeSeconds: 0, secure });
  const clearState = setCookie(STATE_COOKIE, "", { path: "/auth", maxAgeSeconds: 0, secure });

  const refuse = (res: ServerResponse, status: number, title: string, message: string, extra = {}) =>
    sendHtml(res, status, renderAuthPage(title, message), extra);

  /** The request's session, when its cookie is sealed by us, unexpired and not logged out. */
  const sessionOf = async (req: IncomingMessage) => {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!cookie) return undefined;
    const opened = deps.sealer.unseal<Session>(SESSION_PURPOSE, cookie);
    if (!opened.ok) return undefined;
    if (await deps.revocations.isRevoked(`session:${opened.value.sid}`)) return undefined;
    return { session: opened.value, expiresAt: opened.expiresAt };
  };

  const login = (res: ServerResponse, url: URL) => {
    const state = randomBytes(32).toString("base64url");
    const returnTo = safeReturnTo(url.searchParams.get("return_to"));
    const sealed = deps.sealer.seal(STATE_PURPOSE, { state, returnTo } satisfies LoginState, STATE_TTL_MS);
    redirect(res, deps.github.authorizeUrl(state, callbackUrl), {
      "set-cookie": setCookie(STATE_COOKIE, sealed, {
        path: "/auth",
        maxAgeSeconds: STATE_TTL_MS / 1000,
        secure,
      }),
    });
  };

  const callback = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const again = "Start again from the login link.";
    const error = url.searchParams.get("error");
    if (error) {
      refuse(res, 403, "Login cancelled", "GitHub did not authorise the login.", {
        "set-cookie": clearState,
      });
      return;
    }
    const code = url.searchParams.get("code") ?? "";
    const state = url.searchParams.get("state") ?? "";
    const cookie = readCookie(req.headers.cookie, STATE_COOKIE);
    const opened = cookie ? deps.sealer.unseal<LoginState>(STATE_PURPOSE, cookie) : undefined;
    if (!opened?.ok || !STATE_PATTERN.test(state) || !sameText(state, opened.value.state)) {
      deps.logger.warn({ reason: opened?.ok === false ? opened.reason : "state mismatch" }, "login refused");
      refuse(res, 400, "Login refused", `This login did not start in this browser, or it expired. ${again}`, {
        "set-cookie": clearState,
      });
      return;
    }
    if (!CODE_PATTERN.test(code)) {
      refuse(res, 400, "Login refused", `GitHub's answer carried no valid code. ${again}`);
      return;
    }
    // One state, one login: a replayed callback (same cookie, same state) is refused.
    if (!(await deps.revocations.revoke(`state:${state}`, opened.expiresAt))) {
      deps.logger.warn({ reason: "state replayed" }, "login refused");
      refuse(res, 400, "Login refused", `This login was already used. ${again}`, {
        "set-cookie": clearState,
      });
      return;
    }
    let session: Session;
    try {
      const token = await deps.github.exchangeCode(code, callbackUrl);
      session = { sid: randomBytes(16).toString("base64url"), login: await deps.github.login(token), token };
    } catch (cause) {
      deps.logger.warn({ err: String(cause instanceof Error ? cause.message : cause) }, "login code refused");
      refuse(res, 400, "Login refused", `GitHub did not accept the login code. ${again}`, {
        "set-cookie": clearState,
      });
      return;
    }
    deps.logger.info({ login: session.login }, "logged in");
    const sealed = deps.sealer.seal(SESSION_PURPOSE, session, sessionTtlMs);
    redirect(res, opened.value.returnTo, {
      "set-cookie": [
        clearState,
        setCookie(SESSION_COOKIE, sealed, { path: "/", maxAgeSeconds: sessionTtlMs / 1000, secure }),
      ],
    });
  };

  const logout = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) {
      refuse(res, 403, "Logout refused", "The logout form must be sent from this deploy-bot's own pages.");
      return;
    }
    const found = await sessionOf(req);
    if (found) {
      await deps.revocations.revoke(`session:${found.session.sid}`, found.expiresAt);
      deps.access.forget(found.session.token);
      // The token, too: nothing the session held stays usable. GitHub down does not keep the user logged in.
      await deps.github.revokeToken(found.session.token).catch((error: unknown) => {
        deps.logger.warn(
          { login: found.session.login, err: String(error) },
          "could not revoke the user's GitHub token at logout",
        );
      });
      deps.logger.info({ login: found.session.login }, "logged out");
    }
    refuse(res, 200, "Logged out", "You are logged out of this deploy-bot.", { "set-cookie": clearSession });
  };

  return {
    routes: async (req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /auth/login" || route === "HEAD /auth/login") login(res, url);
      else if (route === "GET /auth/callback") await callback(req, res, url);
      else if (route === "POST /auth/logout") await logout(req, res);
      else if (url.pathname.startsWith("/auth/")) refuse(res, 404, "Not found", "There is no such page.");
      else return false;
      return true;
    },
    async viewerFor(req, res) {
      const found = await sessionOf(req);
      const url = new URL(req.url ?? "/", "http://localhost");
      const toLogin = () =>
        redirect(res, `/auth/login?return_to=${encodeURIComponent(`${url.pathname}${url.search}`)}`, {
          "set-cookie": clearSession,
        });
      if (!found) {
        toLogin();
        return undefined;
      }
      try {
        const repos = await deps.access.readable(found.session.token);
        return { kind: "user", login: found.session.login, repos };
      } catch (error) {
        if (error instanceof TokenRejected) {
          toLogin();
          return undefined;
        }
        deps.logger.warn({ err: String(error) }, "could not check repository access on GitHub");
        refuse(
          res,
          502,
          "GitHub did not answer",
          "Could not check your access on GitHub; try again shortly.",
        );
        return undefined;
      }
    },
  };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
