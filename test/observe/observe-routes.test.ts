import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createObserveRoutes, type ObserveRoutesOptions } from "../../src/observe/observe-routes.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function serve(overrides: Partial<ObserveRoutesOptions> = {}): Promise<string> {
  const registry = new Registry();
  new Counter({ name: "deploybot_test_total", help: "a test counter", registers: [registry] }).inc();
  const routes = createObserveRoutes({
    registry,
    metricsToken: undefined,
    checkReady: async () => {},
    isStopping: () => false,
    ...overrides,
  });
  const server = http.createServer(async (req, res) => {
    if (!(await routes(req, res))) res.writeHead(404).end("not mine\n");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, init);
  return { status: response.status, text: await response.text() };
};

describe("observe routes", () => {
  it("/healthz never asks the database", async () => {
    const url = await serve({ checkReady: () => Promise.reject(new Error("database down")) });
    expect(await get(`${url}/healthz`)).toEqual({ status: 200, text: "ok\n" });
  });

  it("/readyz is 503 when the database or queue check fails, and says nothing of the error", async () => {
    const errors: unknown[] = [];
    const url = await serve({
      checkReady: () => Promise.reject(new Error("relation pgboss.version does not exist")),
      onError: (_, error) => errors.push(error),
    });
    expect(await get(`${url}/readyz`)).toEqual({
      status: 503,
      text: "not ready: database or queue unavailable\n",
    });
    expect(errors).toHaveLength(1);
  });

  it("/readyz is 503 when the check hangs past its timeout", async () => {
    const url = await serve({ checkReady: () => new Promise(() => {}), readyTimeoutMs: 50 });
    expect((await get(`${url}/readyz`)).status).toBe(503);
  });

  it("/readyz is 503 while stopping, without running the check", async () => {
    let checked = 0;
    const url = await serve({
      isStopping: () => true,
      checkReady: async () => {
        checked++;
      },
    });
    expect(await get(`${url}/readyz`)).toEqual({ status: 503, text: "shutting down\n" });
    expect(checked).toBe(0);
  });

  it("/readyz is 200 when the check passes", async () => {
    expect(await get(`${await serve()}/readyz`)).toEqual({ status: 200, text: "ready\n" });
  });

  it.each(["/healthz", "/readyz", "/metrics"])("%s refuses POST with 405", async (path) => {
    const url = await serve();
    expect((await get(`${url}${path}`, { method: "POST" })).status).toBe(405);
  });

  it("leaves other paths to the next routes", async () => {
    expect(await get(`${await serve()}/healthz/extra`)).toEqual({ status: 404, text: "not mine\n" });
  });

  it("/metrics is open without a token and guarded with one", async () => {
    expect((await get(`${await serve()}/metrics`)).text).toContain("deploybot_test_total 1");
    const guarded = await serve({ metricsToken: "metrics-token-0123456789" });
    expect(await get(`${guarded}/metrics`)).toEqual({ status: 401, text: "unauthorized\n" });
    const ok = await get(`${guarded}/metrics`, {
      headers: { authorization: "Bearer metrics-token-0123456789" },
    });
    expect(ok.status).toBe(200);
  });
});
