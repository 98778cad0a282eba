/**
 * `GET /runs/:id` (HTML) and `GET /runs/:id/log` (text), behind the page gate (`src/auth/page-gate.ts`):
 * GitHub login when configured (a user sees only runs of repositories they can read; any other run is "not
 * found", exactly like an unknown id), else `DASHBOARD_TOKEN`, else the unguessable run id alone.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createPageGates, type PageGate } from "../auth/page-gate.ts";
import { canRead } from "../auth/viewer.ts";
import { renderRunNotFound, renderRunPage } from "../report/render-run-page.ts";
import type { RunRecord } from "../runs/run.ts";
import { sendHtml, sendPage } from "../server/html-response.ts";
import type { LogChunk } from "../store/log-since.ts";
import { LIVE_LOG_PATH, LIVE_LOG_SCRIPT } from "./live-log-script.ts";
import { createRunEventStreams } from "./run-event-stream.ts";

export interface RunPageDeps {
  readonly getRun: (id: string) => Promise<RunRecord | undefined>;
  readonly readLog: (runId: string, stepIndex?: number) => Promise<string>;
  /** Who may read; default: `DASHBOARD_TOKEN` (below) if set, else anyone holding the link. */
  readonly gate?: PageGate;
  readonly dashboardToken?: string | undefined;
  /** Log rows after a sequence number: with it, a running run's page streams its log live (SSE). */
  readonly logsSince?: (runId: string, afterSeq: number, limit?: number) => Promise<readonly LogChunk[]>;
  /** Live streams end once this is true (shutdown). */
  readonly isStopping?: () => boolean;
  /** Mark the token cookie `Secure` (PUBLIC_URL is https). */
  readonly secureCookie?: boolean;
}

const RUN_PATH = /^\/runs\/([A-Za-z0-9_-]{16,64})(\/log|\/events)?\/?$/;

/** Returns a router for the run pages: it answers (and returns true) only for paths under `/runs/`. */
export function createRunPageRoutes(deps: RunPageDeps) {
  const gate =
    deps.gate ??
    createPageGates({
      login: undefined,
      dashboardToken: deps.dashboardToken,
      secureCookie: deps.secureCookie ?? false,
    }).runs;
  const logsSince = deps.logsSince;
  const streams = logsSince
    ? createRunEventStreams(
        { getRun: deps.getRun, logsSince: (id, after) => logsSince(id, after, 500) },
        { ...(deps.isStopping ? { isStopping: deps.isStopping } : {}) },
      )
    : undefined;
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith("/runs/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendPage(res, 405, "text/plain; charset=utf-8", "Method Not Allowed\n", { allow: "GET, HEAD" });
      return true;
    }
    if (streams && url.pathname === LIVE_LOG_PATH) {
      sendPage(res, 200, "text/javascript; charset=utf-8", LIVE_LOG_SCRIPT, {
        "cache-control": "max-age=300",
      });
      return true;
    }
    const admitted = await gate(req, res);
    if (!admitted) return true;
    const match = RUN_PATH.exec(url.pathname);
    const found = match?.[1] ? await deps.getRun(match[1]) : undefined;
    const run = found && canRead(admitted.viewer, found.event.repo.fullName) ? found : undefined;
    if (!run) {
      sendHtml(res, 404, renderRunNotFound(), admitted.headers);
      return true;
    }
    if (match?.[2] === "/log") {
      sendPage(res, 200, "text/plain; charset=utf-8", await deps.readLog(run.id), admitted.headers);
      return true;
    }
    if (match?.[2] === "/events") {
      if (req.method === "HEAD")
        sendPage(res, 405, "text/plain; charset=utf-8", "Method Not Allowed\n", { allow: "GET" });
      else if (streams) await streams(req, res, run, admitted.headers);
      else sendHtml(res, 404, renderRunNotFound(), admitted.headers);
      return true;
    }
    if (logsSince) {
      // One read for the page and the point its live log continues from: nothing missed, nothing twice.
      const rows = await logsSince(run.id, 0, 1_000_000);
      const logs = new Map<number, string>();
      for (const row of rows) logs.set(row.step, (logs.get(row.step) ?? "") + row.text);
      const after = rows.at(-1)?.seq ?? 0;
      const live = { scriptPath: LIVE_LOG_PATH, eventsUrl: `/runs/${run.id}/events?after=${after}` };
      sendHtml(res, 200, renderRunPage({ run, logs, now: new Date(), live }), admitted.headers);
      return true;
    }
    const logs = new Map<number, string>();
    for (const step of run.steps) logs.set(step.index, await deps.readLog(run.id, step.index));
    sendHtml(res, 200, renderRunPage({ run, logs, now: new Date() }), admitted.headers);
    return true;
  };
}
