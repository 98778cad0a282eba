/**
 * Runs inside a worker thread: owns the embedded PGlite (PostgreSQL compiled to WebAssembly), so its
 * statements run on this thread's core time, not the webhook server's event loop. Requests are run one
 * at a time in arrival order; the main thread (pglite-thread-client.ts) decides what may be sent when.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import {
  serialiseError,
  type ThreadReply,
  type ThreadRequest,
  type ThreadStarted,
} from "./pglite-thread-protocol.ts";

const port = parentPort;
if (!port) throw new Error("pglite-worker.ts runs only as a worker thread");
const { dir, options } = workerData as { dir: string; options: PGliteOptions };

let pglite: PGlite;
try {
  pglite = await PGlite.create(dir, options);
  port.postMessage({ ready: true } satisfies ThreadStarted);
} catch (error) {
  port.postMessage({ ready: false, error: serialiseError(error) } satisfies ThreadStarted);
  process.exit(1);
}

async function handle(request: ThreadRequest): Promise<ThreadReply> {
  if (request.op === "close") {
    await pglite.close();
    return { id: request.id, ok: true, rows: [] };
  }
  try {
    if (request.op === "query") {
      const result = await pglite.query<Record<string, unknown>>(request.sql, [...request.params]);
      return { id: request.id, ok: true, rows: result.rows };
    }
    const results = await pglite.exec(request.sql);
    return { id: request.id, ok: true, results: results.map((result) => result.rows) };
  } catch (error) {
    // pg-boss expects pool semantics: a statement failing inside its own BEGIN ... COMMIT block must not
    // leave the single session in an aborted transaction for the next caller (as pg-boss's fromPglite does).
    if (request.standalone && pglite.isInTransaction()) await pglite.exec("ROLLBACK").catch(() => {});
    return { id: request.id, ok: false, error: serialiseError(error) };
  }
}

let queue: Promise<void> = Promise.resolve();
port.on("message", (request: ThreadRequest) => {
  queue = queue.then(async () => {
    port.postMessage(await handle(request));
    if (request.op === "close") port.close();
  });
});
