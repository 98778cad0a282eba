/**
 * The fake GitHub's users: the OAuth web flow of the App on the web host (`GET /login/oauth/authorize`
 * redirects straight back with a code for the user signed in to the fake, `POST /login/oauth/access_token`
 * exchanges a code once), `ghu_…` user tokens, and the user-to-server API the dashboard uses
 * (`GET /user`, `GET /user/installations`, `GET /user/installations/{id}/repositories`), answering only the
 * repositories the user can read within the App's installations; `DELETE /applications/{client_id}/token` (with
 * the client's Basic credentials) revokes a user token.
 */
import { randomBytes } from "node:crypto";

export interface FakeUser {
  readonly login: string;
  readonly id: number;
  /** `owner/name` of every repository the user can read on GitHub. */
  readonly repositories: readonly string[];
}

export interface FakeOAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

interface InstallationLike {
  readonly id: number;
  readonly account: string;
  readonly repositories: readonly string[];
}

export interface WebAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface FakeUsers {
  /** The user the authorize page logs in (GitHub's own signed-in browser session). */
  signIn(login: string): void;
  /** Every OAuth exchange: code, whether it was accepted. */
  readonly exchanges: { code: string; ok: boolean }[];
  /** Logins whose token was revoked through the API, in order. */
  readonly revoked: string[];
  /** `client:<id>` for the App's own OAuth client credentials (Basic auth), undefined for anything else. */
  clientOf(basicCredential: string): string | undefined;
  /** Answers `/login/oauth/*` on the web host; undefined for any other path. */
  web(method: string, url: URL, body: string, violations: string[]): WebAnswer | undefined;
  /** The user of a `ghu_` token this fake issued. */
  userOf(token: string): FakeUser | undefined;
  /** Answers `/user…` and `/applications…` API routes (route has `*` for values); undefined when none matches. */
  api(
    route: string,
    parts: readonly string[],
    auth: string,
    body?: unknown,
  ): { status: number; json: unknown } | undefined;
}

export class FakeHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function createFakeUsers(options: {
  readonly users: readonly FakeUser[];
  readonly oauth: FakeOAuthClient | undefined;
  readonly installations: readonly InstallationLike[];
}): FakeUsers {
  let signedIn = options.users[0]?.login;
  const codes = new Map<string, { login: string; redirectUri: string }>();
  const tokens = new Map<string, string>();
  const exchanges: { code: string; ok: boolean }[] = [];
  const revoked: string[] = [];
  const userByLogin = (login: string) => options.users.find((u) => u.login === login);
  const readable = (user: FakeUser, installation: InstallationLike) =>
    installation.repositories
      .map((name) => `${installation.account}/${name}`)
      .filter((full) => user.repositories.some((r) => r.toLowerCase() === full.toLowerCase()));

  const requireUser = (auth: string): FakeUser => {
    const login = tokens.get(auth);
    const user = login ? userByLogin(login) : undefined;
    if (!user) throw new FakeHttpError(401, "Bad credentials");
    return user;
  };

  return {
    exchanges,
    revoked,
    clientOf(basicCredential) {
      const oauth = options.oauth;
      const expected = oauth && Buffer.from(`${oauth.clientId}:${oauth.clientSecret}`).toString("base64");
      return oauth && basicCredential === expected ? `client:${oauth.clientId}` : undefined;
    },
    signIn(login) {
      signedIn = login;
    },
    userOf(token) {
      const login = tokens.get(token);
      return login ? userByLogin(login) : undefined;
    },
    web(method, url, body, violations) {
      const oauth = options.oauth;
      if (url.pathname === "/login/oauth/authorize" && method === "GET") {
        const clientId = url.searchParams.get("client_id");
        const redirectUri = url.searchParams.get("redirect_uri") ?? "";
        const state = url.searchParams.get("state");
        if (!oauth || clientId !== oauth.clientId) {
          violations.push(`GET /login/oauth/authorize: unknown client_id ${clientId}`);
          return { status: 404, headers: { "content-type": "text/plain" }, body: "no such app\n" };
        }
        if (!/^https?:\/\/[^/]+\/auth\/callback$/.test(redirectUri) || !state) {
          violations.push(`GET /login/oauth/authorize: bad redirect_uri ${redirectUri} or no state`);
          return { status: 400, headers: { "content-type": "text/plain" }, body: "redirect_uri mismatch\n" };
        }
        const user = signedIn ? userByLogin(signedIn) : undefined;
        if (!user)
          return { status: 403, headers: { "content-type": "text/plain" }, body: "nobody signed in\n" };
        const code = randomBytes(10).toString("hex");
        codes.set(code, { login: user.login, redirectUri });
        const back = new URL(redirectUri);
        back.searchParams.set("code", code);
        back.searchParams.set("state", state);
        return {
          status: 302,
          headers: { location: back.toString(), "content-type": "text/plain" },
          body: "",
        };
      }
      if (url.pathname === "/login/oauth/access_token" && method === "POST") {
        let params: Record<string, unknown> = {};
        try {
          params = JSON.parse(body || "{}") as Record<string, unknown>;
        } catch {
          violations.push("POST /login/oauth/access_token: body is not JSON");
        }
        if (!oauth || params.client_id !== oauth.clientId || params.client_secret !== oauth.clientSecret) {
          violations.push("POST /login/oauth/access_token: wrong client_id or client_secret");
          return json(200, {
            error: "incorrect_client_credentials",
            error_description: "The client_id and/or client_secret passed are incorrect.",
          });
        }
        const code = String(params.code ?? "");
        const granted = codes.get(code);
        codes.delete(code);
        if (!granted || granted.redirectUri !== params.redirect_uri) {
          exchanges.push({ code, ok: false });
          return json(200, {
            error: "bad_verification_code",
            error_description: "The code passed is incorrect or expired.",
            error_uri:
              "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
          });
        }
        exchanges.push({ code, ok: true });
        const token = `ghu_${randomBytes(18).toString("base64url")}`;
        tokens.set(token, granted.login);
        return json(200, { access_token: token, token_type: "bearer", scope: "" });
      }
      if (url.pathname === "/favicon.ico") return { status: 204, headers: {}, body: "" };
      if (url.pathname.startsWith("/login/")) {
        violations.push(`${method} ${url.pathname}: not a GitHub login endpoint`);
        return { status: 404, headers: { "content-type": "text/plain" }, body: "not found\n" };
      }
      return undefined;
    },
    api(route, parts, auth, body) {
      if (route === "DELETE /applications/*/token") {
        if (auth !== `client:${parts[1]}`) throw new FakeHttpError(401, "requires the client's credentials");
        const token = String((body as { access_token?: unknown } | undefined)?.access_token ?? "");
        const login = tokens.get(token);
        if (!login) throw new FakeHttpError(404, "Not Found");
        tokens.delete(token);
        revoked.push(login);
        return { status: 204, json: undefined };
      }
      if (route === "GET /user") {
        const user = requireUser(auth);
        return { status: 200, json: { login: user.login, id: user.id, type: "User" } };
      }
      if (route === "GET /user/installations") {
        const user = requireUser(auth);
        const mine = options.installations.filter((i) => readable(user, i).length > 0);
        return {
          status: 200,
          json: {
            total_count: mine.length,
            installations: mine.map((i) => ({ id: i.id, account: { login: i.account, id: i.id * 10 } })),
          },
        };
      }
      if (route === "GET /user/installations/*/repositories") {
        const user = requireUser(auth);
        const installation = options.installations.find((i) => i.id === Number(parts[2]));
        const repos = installation ? readable(user, installation) : [];
        if (!installation || repos.length === 0) throw new FakeHttpError(404, "Not Found");
        return {
          status: 200,
          json: {
            total_count: repos.length,
            repositories: repos.map((full, index) => ({
              id: index + 1,
              name: full.split("/")[1],
              full_name: full,
              private: true,
              owner: { login: full.split("/")[0] },
            })),
          },
        };
      }
      return undefined;
    },
  };
}

function json(status: number, value: unknown): WebAnswer {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(value),
  };
}
