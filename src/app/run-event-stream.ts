/**
 * `GET /runs/:id/events`: a run's new log output as Server-Sent Events, for the run page's small script
 * (`/runs/live.js`). `log` events carry `{step, text}` (masked, as stored) with the log row's sequence as the
 * event id, so a reconnecting browser (`Last-Event-ID`) misses nothing and sees nothing twice; `reload`
 * says a step or the run changed state (the page reloads to show it); `end` follows the run's final state.
 * Polls the database, so it works the same with several servers on one PostgreSQL. Bounded: at most
 * `maxStreams` at once, each at most `maxMs` (then `reload`, and the page reconnects), none past shutdown.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { FINAL_RUN_STATES, type RunRecord } from "../runs/run.ts";
import { type Headers, PAGE_SECURITY_HEADERS } from "../server/html-response.ts";
import type { LogChunk } from "../store/log-since.ts";

export interface RunEventSource {
  readonly getRun: (id: string) => Promise<RunRecord | undefined>;
  readonly logsSince: (runId: string, afterSeq: number) => Promise<readonly LogChunk[]>;
}

export interface StreamLimits {
  /** True once shutdown has begun: open streams end (with `reload`) so the server can close. */
  readonly isStopping?: () => boolean;
  readonly pollMs?: number;
  readonly maxMs?: number;
  readonly heartbeatMs?: number;
}

/** What of a run the page shows besides its log: when it changes, the page reloads. */
const shape = (run: RunRecord) => `${run.state}|${run.steps.map((step) => step.state).join(",")}`;

export function createRunEventStreams(
  source: RunEventSource,
  options: StreamLimits & { maxStreams?: number } = {},
) {
  const maxStreams = options.maxStreams ?? 200;
  let open = 0;
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    run: RunRecord,
    headers: Headers,
  ): Promise<void> => {
    if (open >= maxStreams) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "10" });
      res.end("too many live pages open\n");
      return;
    }
    open++;
    try {
      await stream(req, res, run, source, headers, options);
    } finally {
      open--;
    }
  };
}

/** The sequence to start after: the page's `?after=`, or a reconnecting browser's `Last-Event-ID`. */
export function startAfter(url: URL, lastEventId: string | undefined): number {
  const candidates = [url.searchParams.get("after"), lastEventId].map((value) =>
    value !== null && value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : 0,
  );
  return Math.max(...candidates);
}

async function stream(
  req: IncomingMessage,
  res: ServerResponse,
  run: RunRecord,
  source: RunEventSource,
  headers: Headers,
  options: StreamLimits,
): Promise<void> {
  const pollMs = options.pollMs ?? 1000;
  const endAt = Date.now() + (options.maxMs ?? 10 * 60_000);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const url = new URL(req.url ?? "/", "http://localhost");
  let after = startAfter(url, req.headers["last-event-id"] as string | undefined);
  let closed = false;
  req.on("close", () => {
    closed = true;
  });
  res.writeHead(200, {
    ...PAGE_SECURITY_HEADERS,
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "x-accel-buffering": "no",
  });
  const send = (event: string, data: unknown, id?: number) =>
    res.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const seen = shape(run);
  let lastWrite = Date.now();
  while (!closed) {
    for (const chunk of await source.logsSince(run.id, after)) {
      send("log", { step: chunk.step, text: chunk.text }, chunk.seq);
      after = chunk.seq;
      lastWrite = Date.now();
    }
    const now = await source.getRun(run.id);
    if (!now || shape(now) !== seen || Date.now() > endAt || options.isStopping?.()) {
      // Let the last rows of a finished run out first: they were written before its final state.
      for (const chunk of await source.logsSince(run.id, after))
        send("log", { step: chunk.step, text: chunk.text }, chunk.seq);
      send("reload", {});
      break;
    }
    if (FINAL_RUN_STATES.has(now.state)) {
      send("end", {});
      break;
    }
    if (Date.now() - lastWrite > heartbeatMs) {
      res.write(": still running\n\n");
      lastWrite = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  res.end();
}
