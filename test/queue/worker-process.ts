/**
 * A worker in its own process, for the kill -9 and multi-worker tests. Storage from DATA_DIR or
 * DATABASE_URL; every execute appends `start`/`end` JSON lines to EVENTS_FILE and sleeps SLEEP_MS.
 * Prints `ready` when the worker runs; SIGTERM stops it gracefully.
 */
import { appendFileSync } from "node:fs";
import { startWorker } from "../../src/queue/start-worker.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore } from "../../src/store/run-store.ts";

const env = process.env;
const db = await openDatabase(
  env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.DATA_DIR! },
);
const store = await openRunStore(db);
const sleepMs = Number(env.SLEEP_MS ?? "200");
const record = (type: string, runId: string, environment: string | null) =>
  appendFileSync(
    env.EVENTS_FILE!,
    `${JSON.stringify({ type, runId, environment, at: Date.now(), pid: process.pid })}\n`,
  );

const worker = await startWorker({
  store,
  concurrency: Number(env.CONCURRENCY ?? "2"),
  pollMs: 200,
  heartbeatMs: 1000,
  async execute(run, { signal }) {
    record("start", run.id, run.environment);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, sleepMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    record("end", run.id, run.environment);
    return signal.aborted ? { state: "cancelled", detail: "aborted" } : { state: "passed", detail: "ok" };
  },
  onRunChanged() {},
});
process.stdout.write("ready\n");
process.on("SIGTERM", async () => {
  await worker.stop(5000);
  await store.close();
  await db.close();
  process.exit(0);
});
