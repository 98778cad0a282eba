/**
 * The login flow against a stand-in GitHub (the `GitHubUserApi` interface): state bound to the browser,
 * replayed callbacks, codes GitHub refuses, forged / expired / logged-out sessions, and the gate's redirects.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenRejected } from "../../src/auth/github-user.ts";
import { createLogin, type Login, SESSION_COOKIE, STATE_COOKIE } from "../../src/auth/login-routes.ts";
import { cachedRepoAccess } from "../../src/auth/repo-access.ts";
import { createSealer } from "../../src/auth/seal.ts";
import type { AuthRevocations } from "../../src/store/auth-revocations.ts";
import { silentLogger } from "../../src/store/logger.ts";

const SECRET = "a-session-secret-of-at-least-32-characters";

function memoryRevocations(): AuthRevocations {
  const ids = new Set<string>();
  return {
    async revoke(id) {
      if (ids.has(id)) return false;
      ids.add(id);
      return true;
    },
    async isRevoked(id) {
      return ids.has(id);
    },
  };
}

/** GitHub as the login sees it: codes are single-use, tokens map to users. */
function standInGitHub() {
  const codes = new Map<string, string>();
  const rejected = new Set<string>();
  const revoked: string[] = [];
  const exchanges: { code: string; redirectUrl: string }[] = [];
  let granted = 0;
  return {
    exchanges,
    rejected,
    revoked,
    grant(login: string): string {
      const code = `code${granted++}${login}`;
      codes.set(code, login);
      return code;
    },
    api: {
      authorizeUrl: (state: string, redirectUrl: string) =>
        `https://ghe.example/login/oauth/authorize?client_id=Iv1.x&redirect_uri=${encodeURIComponent(redirectUrl)}&state=${state}`,
      async exchangeCode(code: string, redirectUrl: string) {
        exchanges.push({ code, redirectUrl });
        const login = codes.get(code);
        if (!login) throw new Error("bad_verification_code");
        codes.delete(code);
        return `ghu_${login}`;
      },
      async login(token: string) {
        if (rejected.has(token)) throw new TokenRejected("401");
        return token.slice(4);
      },
      async readableRepos(token: string) {
        if (rejected.has(token)) throw new TokenRejected("401");
        if (token === "ghu_broken") throw new Error("GitHub 500");
        return token === "ghu_octocat" ? ["Acme/App"] : [];
      },
      async revokeToken(token: string) {
        if (token === "ghu_unrevokable") throw new Error("GitHub 502");
        revoked.push(token);
      },
    },
  };
}

interface Answer {
  readonly status: number;
  readonly location: string | null;
  readonly cookies: string[];
  readonly text: string;
}

describe("GitHub login", () => {
  const github = standInGitHub();
  let login: Login;
  let server: http.Server;
  let base: string;

  const request = async (path: string, init: { cookie?: string; method?: string; origin?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (init.cookie) headers.cookie = init.cookie;
    if (init.origin) headers.origin = init.origin;
    const response = await fetch(`${base}${path}`, {
      method: init.method ?? "GET",
      headers,
      redirect: "manual",
    });
    return {
      status: response.status,
      location: response.headers.get("location"),
      cookies: response.headers.getSetCookie(),
      text: await response.text(),
    } satisfies Answer;
  };
  const cookieValue = (answer: Answer, name: string) =>
    answer.cookies
      .find((c) => c.startsWith(`${name}=`))
      ?.split(";")[0]
      ?.slice(name.length + 1) ?? "";

  /** `/auth/login` in a fresh browser: the state cookie and the state GitHub is sent. */
  const startLogin = async (returnTo = "/") => {
    const answer = await request(`/auth/login?return_to=${encodeURIComponent(returnTo)}`);
    const state = new URL(answer.location ?? "").searchParams.get("state") ?? "";
    return { answer, state, cookie: `${STATE_COOKIE}=${cookieValue(answer, STATE_COOKIE)}` };
  };
  /** The whole flow for `user`: the session cookie. */
  const logIn = async (user: string) => {
    const { state, cookie } = await startLogin("/runs/abc?x=1");
    const callback = await request(`/auth/callback?code=${github.grant(user)}&state=${state}`, { cookie });
    expect(callback.status).toBe(302);
    expect(callback.location).toBe("/runs/abc?x=1");
    return `${SESSION_COOKIE}=${cookieValue(callback, SESSION_COOKIE)}`;
  };

  beforeAll(async () => {
    login = createLogin({
      github: github.api,
      publicUrl: "https://bot.example",
      sealer: createSealer(SECRET),
      revocations: memoryRevocations(),
      access: cachedRepoAccess({ list: (token) => github.api.readableRepos(token) }),
      logger: silentLogger,
    });
    server = http.createServer(async (req, res) => {
      if (await login.routes(req, res)) return;
      const viewer = await login.viewerFor(req, res);
      if (!viewer) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(viewer.kind === "user" ? { login: viewer.login, repos: [...viewer.repos] } : {}),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the browser to GitHub with a fresh state bound to it by a sealed cookie", async () => {
    const first = await startLogin();
    const second = await startLogin();
    expect(first.answer.status).toBe(302);
    expect(first.answer.location).toMatch(
      /^https:\/\/ghe\.example\/login\/oauth\/authorize\?client_id=Iv1\.x&redirect_uri=https%3A%2F%2Fbot\.example%2Fauth%2Fcallback&state=[A-Za-z0-9_-]{43}$/,
    );
    expect(first.state).not.toBe(second.state);
    const cookie = first.answer.cookies.find((c) => c.startsWith(STATE_COOKIE)) ?? "";
    expect(cookie).toMatch(/; Path=\/auth; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookie).not.toContain(first.state);
  });

  it("logs in: a sealed session cookie, and the user sees the repositories they can read", async () => {
    const session = await logIn("octocat");
    const me = await request("/", { cookie: session });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text)).toEqual({ login: "octocat", repos: ["acme/app"] });
    expect(github.exchanges.at(-1)?.redirectUrl).toBe("https://bot.example/auth/callback");
  });

  it("sets the session cookie HttpOnly, SameSite=Lax, Secure, expiring, and clears the state cookie", async () => {
    const { state, cookie } = await startLogin();
    const callback = await request(`/auth/callback?code=${github.grant("octocat")}&state=${state}`, {
      cookie,
    });
    expect(callback.cookies).toContainEqual(
      expect.stringMatching(/^deploybot_login=; Path=\/auth; Max-Age=0;/),
    );
    const session = callback.cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=v1.`)) ?? "";
    expect(session).toMatch(/; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/);
    expect(session).not.toContain("ghu_");
  });

  it("refuses a callback whose state is not this browser's", async () => {
    const mine = await startLogin();
    const theirs = await startLogin();
    const code = github.grant("octocat");
    for (const [query, cookie] of [
      [`code=${code}&state=${theirs.state}`, mine.cookie],
      [`code=${code}&state=${mine.state}`, undefined],
      [`code=${code}`, mine.cookie],
      [`code=${code}&state=${mine.state}`, `${STATE_COOKIE}=v1.forged${"A".repeat(60)}`],
      [`code=${code}&state=${mine.state}x`, mine.cookie],
    ] as const) {
      const answer = await request(`/auth/callback?${query}`, cookie ? { cookie } : {});
      expect(answer.status, query).toBe(400);
      expect(answer.cookies.some((c) => c.startsWith(`${SESSION_COOKIE}=v1.`))).toBe(false);
    }
    expect(github.exchanges.some((e) => e.code === code)).toBe(false);
  });

  it("refuses a replayed callback (same state and cookie), even with a fresh code", async () => {
    const { state, cookie } = await startLogin();
    expect(
      (await request(`/auth/callback?code=${github.grant("octocat")}&state=${state}`, { cookie })).status,
    ).toBe(302);
    const replay = await request(`/auth/callback?code=${github.grant("octocat")}&state=${state}`, { cookie });
    expect(replay.status).toBe(400);
    expect(replay.text).toContain("already used");
  });

  it("refuses a code GitHub does not accept, and malformed or injected codes without asking GitHub", async () => {
    const { state, cookie } = await startLogin();
    const answer = await request(`/auth/callback?code=not-a-granted-code&state=${state}`, { cookie });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("GitHub did not accept the login code");
    const asked = github.exchanges.length;
    for (const code of ["", "a b", "x".repeat(200), "<script>", "a%0d%0ab"]) {
      const fresh = await startLogin();
      const bad = await request(`/auth/callback?code=${encodeURIComponent(code)}&state=${fresh.state}`, {
        cookie: fresh.cookie,
      });
      expect(bad.status).toBe(400);
    }
    expect(github.exchanges.length).toBe(asked);
  });

  it("answers a login the user cancelled on GitHub", async () => {
    const { state, cookie } = await startLogin();
    expect((await request(`/auth/callback?error=access_denied&state=${state}`, { cookie })).status).toBe(403);
  });

  it("never redirects off this server after login", async () => {
    for (const target of ["https://evil.example/", "//evil.example", "/\\evil.example"]) {
      const { state, cookie } = await startLogin(target);
      const callback = await request(`/auth/callback?code=${github.grant("octocat")}&state=${state}`, {
        cookie,
      });
      expect(callback.location).toBe("/");
    }
  });

  it("sends a request without a valid session to the login, keeping where it was going", async () => {
    const forged = createSealer("another-session-secret-of-32-characters!").seal(
      "session",
      { sid: "x", login: "admin", token: "ghu_octocat" },
      60_000,
    );
    const stateAsSession = createSealer(SECRET).seal(
      "login-state",
      { sid: "x", login: "admin", token: "ghu_octocat" },
      60_000,
    );
    for (const cookie of [
      undefined,
      `${SESSION_COOKIE}=garbage`,
      `${SESSION_COOKIE}=${forged}`,
      `${SESSION_COOKIE}=${stateAsSession}`,
    ]) {
      const answer = await request("/runs/abc?x=1", cookie ? { cookie } : {});
      expect(answer.status).toBe(302);
      expect(answer.location).toBe("/auth/login?return_to=%2Fruns%2Fabc%3Fx%3D1");
    }
  });

  it("refuses an expired session", async () => {
    const expired = createSealer(SECRET).seal(
      "session",
      { sid: "old", login: "octocat", token: "ghu_octocat" },
      1000,
      new Date(Date.now() - 2000),
    );
    expect((await request("/", { cookie: `${SESSION_COOKIE}=${expired}` })).status).toBe(302);
  });

  it("logs out: the same cookie, replayed, opens nothing", async () => {
    const session = await logIn("octocat");
    expect((await request("/", { cookie: session })).status).toBe(200);
    const out = await request("/auth/logout", {
      method: "POST",
      cookie: session,
      origin: "https://bot.example",
    });
    expect(out.status).toBe(200);
    expect(out.cookies).toContainEqual(expect.stringMatching(/^deploybot_session=; Path=\/; Max-Age=0;/));
    const replay = await request("/", { cookie: session });
    expect(replay.status).toBe(302);
    expect(replay.location).toMatch(/^\/auth\/login/);
    // The GitHub token the session held is revoked too, once.
    expect(github.revoked.filter((token) => token === "ghu_octocat")).toEqual(["ghu_octocat"]);
  });

  it("logs out even when GitHub cannot revoke the token", async () => {
    const session = await logIn("unrevokable");
    const out = await request("/auth/logout", {
      method: "POST",
      cookie: session,
      origin: "https://bot.example",
    });
    expect(out.status).toBe(200);
    expect((await request("/", { cookie: session })).status).toBe(302);
    expect(github.revoked).not.toContain("ghu_unrevokable");
  });

  it("refuses a logout posted from another origin, and a logout by GET", async () => {
    const session = await logIn("octocat");
    expect(
      (await request("/auth/logout", { method: "POST", cookie: session, origin: "https://evil.example" }))
        .status,
    ).toBe(403);
    expect((await request("/auth/logout", { cookie: session })).status).toBe(404);
    expect((await request("/", { cookie: session })).status).toBe(200);
  });

  it("sends a user whose token GitHub now rejects back to the login; GitHub down is a 502", async () => {
    const session = await logIn("revoked");
    github.rejected.add("ghu_revoked");
    expect((await request("/", { cookie: session })).location).toMatch(/^\/auth\/login/);
    const broken = await logIn("broken");
    expect((await request("/", { cookie: broken })).status).toBe(502);
  });
});
