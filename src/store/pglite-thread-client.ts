/**
 * The main thread's side of embedded PGlite in a worker thread (pglite-worker.ts). Statements travel as
 * messages and their rows come back by structured clone; the WebAssembly PostgreSQL never runs on the
 * webhook server's event loop. A thread that dies fails every waiting and later call with one clear
 * error instead of leaving them pending: the bot is broken, not the user's pipeline.
 */
import { Worker } from "node:worker_threads";
import type { PGliteOptions } from "@electric-sql/pglite";
import type { Row } from "./database.ts";
import {
  deserialiseError,
  type ThreadReply,
  type ThreadRequest,
  type ThreadStarted,
} from "./pglite-thread-protocol.ts";

/** Raw statements on the thread's single PostgreSQL session, in the order they are called. */
export interface PgliteThread {
  /** One statement with `$1`-style parameters. `standalone`: not part of one of our transactions. */
  query<T extends Row = Row>(sql: string, params: readonly unknown[], standalone: boolean): Promise<T[]>;
  /** Parameterless text that may hold several statements: one row list per statement. */
  exec(sql: string, standalone: boolean): Promise<Row[][]>;
  /** Closes the database and ends the thread (bounded: the thread is terminated after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  /** Ends the thread at once, as a crash would; pending and later calls fail. */
  terminate(): Promise<void>;
}

type Request = ThreadRequest extends infer R ? (R extends ThreadRequest ? Omit<R, "id"> : never) : never;

const START_TIMEOUT_MS = 120_000;

/** Starts the thread and opens the PGlite cluster in `dir`; rejects if it cannot be opened. */
export async function startPgliteThread(dir: string, options: PGliteOptions): Promise<PgliteThread> {
  const worker = new Worker(new URL("./pglite-worker.ts", import.meta.url), { workerData: { dir, options } });
  const pending = new Map<number, { resolve(reply: ThreadReply): void; reject(error: Error): void }>();
  let nextId = 1;
  let stopped: Error | undefined;
  let exited = false;

  const stop = (reason: string): void => {
    if (stopped) return;
    stopped = new Error(`the embedded database thread stopped (${reason}); restart the bot`);
    for (const waiting of pending.values()) waiting.reject(stopped);
    pending.clear();
    worker.unref();
  };
  worker.on("error", (error) => stop(error.message));
  worker.on("messageerror", (error) => stop(`unreadable message: ${error.message}`));
  worker.once("exit", (code) => {
    exited = true;
    stop(`exit code ${code}`);
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the embedded database in ${dir} did not open within ${START_TIMEOUT_MS / 1000} s`));
      void worker.terminate();
    }, START_TIMEOUT_MS);
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      worker.off("message", onStarted);
      worker.off("exit", onEarlyExit);
      outcome();
    };
    const onStarted = (message: ThreadStarted) =>
      settle(() =>
        message.ready
          ? resolve()
          : reject(new Error(`could not open the embedded database in ${dir}: ${message.error.message}`)),
      );
    const onEarlyExit = (code: number) =>
      settle(() =>
        reject(new Error(`the embedded database thread exited (code ${code}) while opening ${dir}`)),
      );
    worker.on("message", onStarted);
    worker.once("exit", onEarlyExit);
  });

  worker.on("message", (reply: ThreadReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    // The thread keeps the process alive only while the main thread waits for it.
    if (pending.size === 0) worker.unref();
    waiting.resolve(reply);
  });
  worker.unref();

  const send = (request: Request): Promise<ThreadReply> => {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
    return new Promise<ThreadReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
      worker.postMessage({ ...request, id });
    }).then((reply) => {
      if (!reply.ok) throw deserialiseError(reply.error);
      return reply;
    });
  };

  return {
    async query<T extends Row>(sql: string, params: readonly unknown[], standalone: boolean) {
      const reply = await send({ op: "query", sql, params, standalone });
      return ("rows" in reply ? reply.rows : []) as T[];
    },
    async exec(sql: string, standalone: boolean) {
      const reply = await send({ op: "exec", sql, standalone });
      return "results" in reply ? reply.results : [];
    },
    async close(timeoutMs = 10_000) {
      if (!stopped) {
        const timer = setTimeout(() => void worker.terminate(), timeoutMs);
        await send({ op: "close" }).finally(() => clearTimeout(timer));
      }
      // PGlite has closed (its files are written) and the thread closed its port: let it end on its own.
      // Terminating it while V8 tears down the WebAssembly instance can crash the whole process
      // (V8 "Check failed: jit_page_->allocations_.erase(addr) == 1", seen in CI); terminate only a thread that
      // has not ended within a few seconds.
      if (!exited) {
        const ended = new Promise<void>((resolve) => {
          worker.once("exit", () => resolve());
          if (exited) resolve();
        });
        const timer = setTimeout(() => void worker.terminate(), 3000);
        await ended.finally(() => clearTimeout(timer));
      }
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
