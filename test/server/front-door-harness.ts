import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { VerifiedDelivery } from "../../src/events/delivery.ts";
import { createFrontDoor, type FrontDoorOptions } from "../../src/server/front-door.ts";

export interface LogEntry {
  readonly level: "info" | "warn" | "error";
  readonly obj: object;
  readonly msg: string;
}

export interface Harness {
  readonly port: number;
  readonly url: string;
  readonly deliveries: VerifiedDelivery[];
  readonly logs: LogEntry[];
  /** Server-side sockets, to see how many bytes the server actually read. */
  readonly sockets: Socket[];
  close(): Promise<void>;
}

export const SECRET = "current-secret";
export const PREVIOUS_SECRET = "previous-secret";
export const WEBHOOK_PATH = "/api/github/webhooks";

/** Starts a real front door on 127.0.0.1:0 that records deliveries and log calls. */
export async function startFrontDoor(overrides: Partial<FrontDoorOptions> = {}): Promise<Harness> {
  const deliveries: VerifiedDelivery[] = [];
  const logs: LogEntry[] = [];
  const sockets: Socket[] = [];
  const server = createFrontDoor({
    webhookPath: WEBHOOK_PATH,
    secrets: [SECRET],
    onDelivery: async (delivery) => {
      deliveries.push(delivery);
      return { status: 202, body: "accepted" };
    },
    logger: {
      info: (obj, msg) => logs.push({ level: "info", obj, msg: msg ?? "" }),
      warn: (obj, msg) => logs.push({ level: "warn", obj, msg: msg ?? "" }),
      error: (obj, msg) => logs.push({ level: "error", obj, msg: msg ?? "" }),
    },
    ...overrides,
  });
  server.on("connection", (socket: Socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    deliveries,
    logs,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SimpleResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** One request with `http.request`; `agent` lets a test reuse keep-alive connections. */
export function request(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer | string;
    agent?: http.Agent;
  },
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path ?? WEBHOOK_PATH,
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface LargeUploadResult {
  readonly status: number;
  /** Bytes the client had handed to its socket when the response arrived. */
  readonly writtenAtResponse: number;
  readonly total: number;
}

/**
 * Streams `body` in 64 KiB pieces with backpressure (with `Content-Length` or chunked) and stops sending as
 * soon as a response arrives, so the test can see whether the server answered before reading everything.
 */
export function uploadLarge(
  port: number,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  mode: "content-length" | "chunked",
): Promise<LargeUploadResult> {
  return new Promise((resolve, reject) => {
    const all: http.OutgoingHttpHeaders = { ...headers };
    if (mode === "content-length") all["content-length"] = body.length;
    else all["transfer-encoding"] = "chunked";
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: WEBHOOK_PATH,
      headers: all,
      agent: false,
    });
    let written = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const writtenAtResponse = written;
      res.resume();
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, writtenAtResponse, total: body.length });
      });
    });
    req.on("error", (error) => {
      // The server closing the socket on us after answering is expected (EPIPE / ECONNRESET).
      if (!answered) reject(error);
    });
    const step = 64 * 1024;
    const pump = (): void => {
      while (!answered && written < body.length) {
        const piece = body.subarray(written, written + step);
        written += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
