/** Run pages behind a logged-in viewer: readable runs only, the live page and its stream, the script. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunPageRoutes } from "../../src/app/run-page-routes.ts";
import type { PageGate } from "../../src/auth/page-gate.ts";
import type { LogChunk } from "../../src/store/log-since.ts";
import { pushEvent, run, step } from "../report/fixtures.ts";

const mine = run({
  id: "MineMineMineMine0001",
  state: "running",
  event: pushEvent(),
  steps: [step(0, "Build", { state: "running" })],
});
const theirs = run({
  id: "TheirsTheirsTheirs01",
  state: "passed",
  event: { ...pushEvent(), repo: { ...pushEvent().repo, fullName: "other/secret" } },
});
const rows: LogChunk[] = [{ seq: 41, step: 0, text: "building <b>\n" }];
const gate: PageGate = async () => ({
  viewer: { kind: "user", login: "octocat", repos: new Set([mine.event.repo.fullName.toLowerCase()]) },
  headers: {},
});

describe("run pages for a logged-in viewer", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    const routes = createRunPageRoutes({
      getRun: async (id) => [mine, theirs].find((r) => r.id === id),
      readLog: async () => "raw log\n",
      logsSince: async (_, after) => rows.filter((r) => r.seq > after),
      gate,
      isStopping: () => true,
    });
    server = http.createServer((req, res) => void routes(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("serves a readable running run as a live page continuing after the rows it shows", async () => {
    const page = await fetch(`${base}/runs/${mine.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain(`<body data-live="/runs/${mine.id}/events?after=41">`);
    expect(html).toContain('<pre data-step="0">building &lt;b&gt;\n</pre>');
  });

  it("serves the script", async () => {
    const script = await fetch(`${base}/runs/live.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("new EventSource(url)");
  });

  it("streams a readable run's events (ending at once here: the server is stopping)", async () => {
    const events = await fetch(`${base}/runs/${mine.id}/events?after=0`);
    expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await events.text()).toBe(
      'id: 41\nevent: log\ndata: {"step":0,"text":"building <b>\\n"}\n\nevent: reload\ndata: {}\n\n',
    );
    expect((await fetch(`${base}/runs/${mine.id}/events`, { method: "HEAD" })).status).toBe(405);
  });

  it("answers a run of a repository the viewer cannot read exactly like an unknown id", async () => {
    for (const suffix of ["", "/log", "/events"]) {
      const hidden = await fetch(`${base}/runs/${theirs.id}${suffix}`);
      const unknown = await fetch(`${base}/runs/UnknownUnknown000001${suffix}`);
      expect(hidden.status).toBe(404);
      const text = await hidden.text();
      expect(text).toBe(await unknown.text());
      expect(text).not.toContain("secret");
    }
  });
});
