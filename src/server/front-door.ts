import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { DeliveryResponse, VerifiedDelivery } from "../events/delivery.ts";
import type { Logger } from "../store/logger.ts";
import { readBoundedBody } from "./read-bounded-body.ts";
import { createRejectionLog, type RejectionReason } from "./rejection-log.ts";
import { verifySignature } from "./verify-signature.ts";

/** Extra routes (run pages, ...): return true when the request was handled. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface FrontDoorOptions {
  /** Path of the webhook endpoint, e.g. `/api/github/webhooks`. */
  readonly webhookPath: string;
  /** Accepted HMAC secrets: the current one first, then the previous one during a rotation. */
  readonly secrets: readonly string[];
  /** Largest accepted body; default 25 MB (GitHub's own cap on payloads). */
  readonly maxBodyBytes?: number;
  /** Called only for verified, parsed deliveries; its answer is sent as is. */
  readonly onDelivery: (delivery: VerifiedDelivery) => Promise<DeliveryResponse>;
  readonly routes?: ExtraRoutes;
  readonly logger: Logger;
  /** `GET /ping` answers `PONG` only once this is true; default always ready. */
  readonly isReady?: () => boolean;
  /** Told of every refused webhook request (for metrics); `event` is the raw `X-GitHub-Event` header. */
  readonly onRejected?: (event: string | undefined, reason: RejectionReason) => void;
  /** Interval of the rejection log's rate limit and summaries; default 1000 ms. */
  readonly rejectionLogIntervalMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
/** Bodies we would rather close the connection on than drain after refusing the request. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

const JSON_TYPE = "application/json";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === JSON_TYPE;
}

function send(res: ServerResponse, status: number, body: string, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  };
  if (close) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

/** True when a refused request still has a body we do not want to pull off the wire to keep the socket. */
function hasLargeUnreadBody(req: IncomingMessage): boolean {
  if (header(req, "transfer-encoding") !== undefined) return true;
  const length = Number(header(req, "content-length") ?? 0);
  return !(length <= DRAIN_LIMIT_BYTES);
}

/**
 * The HTTP front door: a plain `node:http` server that authenticates webhooks before anything else.
 *
 * Why not Probot's webhook path: it builds per-delivery objects and logs whole payloads on verification
 * failures, so an unauthenticated flood costs CPU, memory and log volume. Here the order of work is fixed:
 * method and path, required headers, the size cap (from `Content-Length`, then while streaming), the HMAC
 * over the raw bytes, `JSON.parse`, and only then `onDelivery`. Refusals cost one short, rate-limited line.
 */
export function createFrontDoor(opts: FrontDoorOptions): http.Server {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const isReady = opts.isReady ?? (() => true);
  const logger = opts.logger;
  const intervalMs = opts.rejectionLogIntervalMs ?? 1000;
  const rejections = createRejectionLog(logger, { intervalMs });
  const secrets = opts.secrets.filter((s) => s.length > 0);
  if (secrets.length === 0)
    throw new Error("createFrontDoor: at least one non-empty webhook secret is required");

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: RejectionReason,
    message: string,
    bodyUnread: boolean,
  ): void => {
    rejections.reject(reason, req.socket.remoteAddress, header(req, "x-github-delivery"));
    opts.onRejected?.(header(req, "x-github-event"), reason);
    send(res, status, `${message}\n`, bodyUnread && hasLargeUnreadBody(req));
  };

  const handleWebhook = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      refuse(req, res, 405, "method-not-allowed", "method not allowed", true);
      return;
    }
    const signature = header(req, "x-hub-signature-256");
    if (signature === undefined) {
      refuse(req, res, 401, "missing-signature", "X-Hub-Signature-256 required", true);
      return;
    }
    const name = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    if (name === undefined || id === undefined || name === "" || id === "") {
      refuse(req, res, 400, "missing-headers", "X-GitHub-Event and X-GitHub-Delivery required", true);
      return;
    }
    if (!isJson(header(req, "content-type"))) {
      refuse(req, res, 415, "unsupported-content-type", "content-type must be application/json", true);
      return;
    }
    const declared = header(req, "content-length");
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      refuse(req, res, 413, "too-large", "payload too large", true);
      return;
    }
    const read = await readBoundedBody(req, maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") refuse(req, res, 413, "too-large", "payload too large", true);
      else {
        rejections.reject("aborted", req.socket.remoteAddress, id);
        opts.onRejected?.(name, "aborted");
      }
      return;
    }
    if (!verifySignature(read.body, signature, secrets)) {
      refuse(req, res, 401, "bad-signature", "signature does not match", false);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(read.body.toString("utf8"));
    } catch {
      refuse(req, res, 400, "malformed-json", "body is not valid JSON", false);
      return;
    }
    let result: DeliveryResponse;
    try {
      result = await opts.onDelivery({ id, name, payload, rawBody: read.body });
    } catch (error) {
      logger.error(
        { delivery: id.slice(0, 40), event: name.slice(0, 40), err: error },
        "webhook delivery handler failed",
      );
      send(res, 500, "internal error\n");
      return;
    }
    send(res, result.status, result.body);
  };

  const handleOther = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === "/ping" && (req.method === "GET" || req.method === "HEAD")) {
      if (isReady()) send(res, 200, "PONG");
      else send(res, 503, "starting\n");
      return;
    }
    if (opts.routes !== undefined) {
      try {
        if (await opts.routes(req, res)) return;
      } catch (error) {
        logger.error({ path: path.slice(0, 80), err: error }, "route failed");
        send(res, 500, "internal error\n");
        return;
      }
    }
    send(res, 404, "not found\n", hasLargeUnreadBody(req));
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const path = pathOf(req.url);
    const work = path === opts.webhookPath ? handleWebhook(req, res) : handleOther(req, res, path);
    work.catch((error: unknown) => {
      logger.error({ err: error }, "front door failed");
      send(res, 500, "internal error\n");
    });
  });
  // Slowloris: a client must finish its headers within 10 s and its whole request within 60 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  const flushTimer = setInterval(() => rejections.flush(), intervalMs);
  flushTimer.unref();
  server.on("close", () => {
    clearInterval(flushTimer);
    rejections.flush();
  });
  return server;
}
