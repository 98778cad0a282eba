/** `GET /` in front of its gate: off without login or token, token-gated, method and header checks. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createPageGates } from "../../src/auth/page-gate.ts";
import { createDashboardRoutes } from "../../src/dashboard/dashboard-routes.ts";
import type { Executor } from "../../src/store/database.ts";

/** A database with no rows, recording what it was asked. */
function emptyDb() {
  const asked: unknown[][] = [];
  const db: Executor = {
    async query(_sql, params) {
      asked.push([...(params ?? [])]);
      return [];
    },
  };
  return { db, asked };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function serve(routes: ReturnType<typeof createDashboardRoutes>) {
  const server = http.createServer(async (req, res) => {
    if (!(await routes(req, res))) {
      res.writeHead(404);
      res.end("next route\n");
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const TOKEN = "dashboard-token-0123456789";

describe("GET /", () => {
  it("is off (and reads nothing) without GitHub login or DASHBOARD_TOKEN", async () => {
    const { db, asked } = emptyDb();
    const gates = createPageGates({ login: undefined, dashboardToken: undefined, secureCookie: false });
    const url = await serve(createDashboardRoutes({ db, gate: gates.dashboard }));
    const answer = await fetch(`${url}/`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).toContain("The dashboard is off: set GITHUB_CLIENT_ID");
    expect(asked).toEqual([]);
  });

  it("requires DASHBOARD_TOKEN when that is the gate; ?token= once sets the cookie", async () => {
    const { db, asked } = emptyDb();
    const gates = createPageGates({ login: undefined, dashboardToken: TOKEN, secureCookie: true });
    const url = await serve(createDashboardRoutes({ db, gate: gates.dashboard }));
    for (const headers of [
      {},
      { authorization: "Bearer wrong-token-0000000" },
      { cookie: "deploybot_token=%E0%A4%A" },
    ]) {
      expect((await fetch(`${url}/`, { headers })).status).toBe(401);
    }
    expect(asked).toEqual([]);
    const first = await fetch(`${url}/?token=${TOKEN}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("set-cookie")).toBe(
      `deploybot_token=${TOKEN}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure`,
    );
    const page = await fetch(`${url}/`, { headers: { cookie: `deploybot_token=${TOKEN}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(await page.text()).toContain('<h2 id="runs-heading">Recent runs</h2>');
  });

  it("passes no malformed filter to the database", async () => {
    const { db, asked } = emptyDb();
    const gates = createPageGates({ login: undefined, dashboardToken: TOKEN, secureCookie: false });
    const url = await serve(createDashboardRoutes({ db, gate: gates.dashboard }));
    const hostile = `repo=${encodeURIComponent("a/b' OR 1=1 --")}&state=__proto__&environment=${"e".repeat(5000)}&page=-3`;
    const answer = await fetch(`${url}/?${hostile}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    // recentRuns: visible, repo, state, environment, limit + 1, offset
    expect(asked[0]).toEqual([null, null, null, null, 26, 0]);
  });

  it("answers only GET and HEAD, and leaves other paths to the next route", async () => {
    const { db } = emptyDb();
    const gates = createPageGates({ login: undefined, dashboardToken: TOKEN, secureCookie: false });
    const url = await serve(createDashboardRoutes({ db, gate: gates.dashboard }));
    expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(405);
    expect(await (await fetch(`${url}/elsewhere`)).text()).toBe("next route\n");
  });
});
