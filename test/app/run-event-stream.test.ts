/** The live log stream: new rows as SSE, resumable by Last-Event-ID, reload on a state change, bounded. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRunEventStreams, startAfter } from "../../src/app/run-event-stream.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { LogChunk } from "../../src/store/log-since.ts";
import { run, step } from "../report/fixtures.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function source(initial: RunRecord) {
  const state = { run: initial, rows: [] as LogChunk[] };
  return {
    state,
    getRun: async () => state.run,
    logsSince: async (_: string, after: number) => state.rows.filter((row) => row.seq > after),
  };
}

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) {
  const server = http.createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads the stream until it ends; returns the raw text. */
async function readAll(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

const going = run({
  id: "r",
  state: "running",
  steps: [step(0, "Build", { state: "running" }), step(1, "Deploy")],
});

describe("run event stream", () => {
  it("sends new rows with their sequence as id, then reload when the run changes state", async () => {
    const s = source(going);
    s.state.rows.push({ seq: 5, step: 0, text: "old\n" }, { seq: 7, step: 0, text: "new <b>\n" });
    const streams = createRunEventStreams(s, { pollMs: 20 });
    const url = await serve((req, res) => streams(req, res, going, {}));
    setTimeout(() => {
      s.state.rows.push({ seq: 9, step: 1, text: "last\n" });
      s.state.run = { ...going, state: "passed", steps: going.steps.map((x) => ({ ...x, state: "passed" })) };
    }, 100);
    const answer = await readAll(`${url}/runs/r/events?after=5`);
    expect(answer.status).toBe(200);
    expect(answer.type).toBe("text/event-stream; charset=utf-8");
    expect(answer.text).toBe(
      'id: 7\nevent: log\ndata: {"step":0,"text":"new <b>\\n"}\n\n' +
        'id: 9\nevent: log\ndata: {"step":1,"text":"last\\n"}\n\n' +
        "event: reload\ndata: {}\n\n",
    );
  });

  it("resumes after Last-Event-ID (a reconnecting browser sees nothing twice)", async () => {
    const s = source(going);
    s.state.rows.push({ seq: 5, step: 0, text: "a" }, { seq: 7, step: 0, text: "b" });
    const streams = createRunEventStreams(s, { pollMs: 20, maxMs: 50 });
    const url = await serve((req, res) => streams(req, res, going, {}));
    const answer = await readAll(`${url}/runs/r/events?after=0`, { "last-event-id": "5" });
    expect(answer.text).toBe('id: 7\nevent: log\ndata: {"step":0,"text":"b"}\n\nevent: reload\ndata: {}\n\n');
  });

  it.each([
    ["?after=12", undefined, 12],
    ["?after=12", "30", 30],
    ["?after=-1", undefined, 0],
    ["?after=1e9", "abc", 0],
    ["?after=99999999999999999999", undefined, 0],
    ["", "7", 7],
  ])("starts after %s / Last-Event-ID %s: %i", (query, lastEventId, expected) => {
    expect(startAfter(new URL(`http://x/runs/r/events${query}`), lastEventId)).toBe(expected);
  });

  it("refuses more than maxStreams at once", async () => {
    const s = source(going);
    const streams = createRunEventStreams(s, { pollMs: 20, maxMs: 400, maxStreams: 1 });
    const url = await serve((req, res) => streams(req, res, going, {}));
    const first = fetch(`${url}/e`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await readAll(`${url}/e`)).status).toBe(503);
    await (await first).text();
  });
});

describe("run event stream at shutdown", () => {
  it("ends open streams with reload once shutdown begins", async () => {
    const s = source(going);
    let stopping = false;
    const streams = createRunEventStreams(s, { pollMs: 20, isStopping: () => stopping });
    const url = await serve((req, res) => streams(req, res, going, {}));
    setTimeout(() => {
      stopping = true;
    }, 100);
    expect((await readAll(`${url}/runs/r/events`)).text).toBe("event: reload\ndata: {}\n\n");
  });
});
