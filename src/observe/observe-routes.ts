/**
 * `GET /healthz`, `GET /readyz` and `GET /metrics`, as extra routes for the front door.
 * `/healthz` is the process answering (no database); `/readyz` is "send me traffic": the database and the
 * queue answer and shutdown has not begun, so a load balancer drains this instance as soon as it stops.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { ExtraRoutes } from "../server/front-door.ts";
import { bearerTokenMatches } from "./bearer-token.ts";

export interface ObserveRoutesOptions {
  readonly registry: Registry;
  /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Resolves when the database and the queue are usable; rejects (or times out) otherwise. */
  readonly checkReady: () => Promise<void>;
  /** True once shutdown has begun. */
  readonly isStopping: () => boolean;
  readonly readyTimeoutMs?: number;
  readonly onError?: (path: string, error: unknown) => void;
}

const PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createObserveRoutes(opts: ObserveRoutesOptions): ExtraRoutes {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2000;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (!PATHS.has(path)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "method not allowed\n", { allow: "GET, HEAD" });
      return true;
    }
    if (path === "/healthz") {
      send(res, 200, "ok\n");
      return true;
    }
    if (path === "/readyz") {
      if (opts.isStopping()) {
        send(res, 503, "shutting down\n");
        return true;
      }
      try {
        await withTimeout(opts.checkReady(), readyTimeoutMs);
      } catch (error) {
        opts.onError?.(path, error);
        send(res, 503, "not ready: database or queue unavailable\n");
        return true;
      }
      // Shutdown may have begun while the check ran.
      if (opts.isStopping()) send(res, 503, "shutting down\n");
      else send(res, 200, "ready\n");
      return true;
    }
    if (
      opts.metricsToken !== undefined &&
      !bearerTokenMatches(req.headers.authorization, opts.metricsToken)
    ) {
      send(res, 401, "unauthorized\n", { "www-authenticate": 'Bearer realm="metrics"' });
      return true;
    }
    let body: string;
    try {
      body = await opts.registry.metrics();
    } catch (error) {
      opts.onError?.(path, error);
      send(res, 500, "could not collect metrics\n");
      return true;
    }
    send(res, 200, body, { "content-type": opts.registry.contentType });
    return true;
  };
}

/** Tries each set of routes in turn. */
export function firstOf(...routes: readonly ExtraRoutes[]): ExtraRoutes {
  return async (req, res) => {
    for (const route of routes) if (await route(req, res)) return true;
    return false;
  };
}
