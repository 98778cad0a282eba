/**
 * Dispatch latency: from `acceptDelivery` resolving (the webhook could answer 2xx) to the worker calling
 * `execute`, over N deliveries, embedded PGlite and (with DATABASE_URL) PostgreSQL. Prints one JSON line.
 * Usage: node bench/queue.ts [deliveries=200]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { DeployEvent } from "../src/events/deploy-event.ts";
import { startWorker } from "../src/queue/start-worker.ts";
import { type DatabaseOptions, openDatabase } from "../src/store/open-database.ts";
import { openRunStore } from "../src/store/run-store.ts";

export interface DispatchFigures {
  readonly mode: "embedded" | "postgres";
  readonly deliveries: number;
  readonly acceptP50Ms: number;
  readonly acceptP99Ms: number;
  readonly dispatchP50Ms: number;
  readonly dispatchP99Ms: number;
  readonly rssMb: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0).toFixed(2),
  );
};

function event(i: number): DeployEvent {
  return {
    kind: "push",
    action: "push",
    deliveryId: `bench-${i}-${Date.now()}`,
    repo: {
      owner: "bench",
      name: "app",
      fullName: "bench/app",
      cloneUrl: "https://example.invalid/app.git",
      private: false,
    },
    installationId: 1,
    sha: i.toString(16).padStart(40, "0"),
    ref: `refs/heads/b${i}`,
    changedFiles: { known: true, files: [] },
    sender: "bench",
    branch: `b${i}`,
    tag: undefined,
    before: "0".repeat(40),
    fork: false,
  };
}

async function measure(
  mode: DispatchFigures["mode"],
  options: DatabaseOptions,
  n: number,
): Promise<DispatchFigures> {
  const db = await openDatabase(options);
  const store = await openRunStore(db);
  const accepted = new Map<string, number>();
  const executedAt = new Map<string, number>();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const worker = await startWorker({
    store,
    concurrency: 4,
    async execute(run) {
      executedAt.set(run.deliveryId, performance.now());
      if (++done === n) allDone();
      return { state: "passed", detail: "ok" };
    },
    onRunChanged() {},
  });
  const acceptMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = event(i);
    const start = performance.now();
    const result = await store.acceptDelivery({
      deliveryId: e.deliveryId,
      eventName: "push",
      event: e,
      repo: e.repo.fullName,
      sha: e.sha,
      outcome: "planned",
      reason: null,
      runs: [
        { pipeline: "test", needs: [], environment: undefined, stepNames: ["run"], initialState: "queued" },
      ],
    });
    const end = performance.now();
    acceptMs.push(end - start);
    if (result.runs.length > 0) accepted.set(e.deliveryId, end);
    // Deliveries arrive spread out, as webhooks do, rather than as one burst.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await finished;
  // A worker in the same process may start a run before acceptDelivery has returned: that counts as 0.
  const dispatch = [...accepted].map(([id, end]) => Math.max(0, (executedAt.get(id) ?? end) - end));
  await worker.stop(1000);
  await store.close();
  await db.close();
  return {
    mode,
    deliveries: n,
    acceptP50Ms: percentile(acceptMs, 50),
    acceptP99Ms: percentile(acceptMs, 99),
    dispatchP50Ms: percentile(dispatch, 50),
    dispatchP99Ms: percentile(dispatch, 99),
    rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
  };
}

/** Runs the benchmark; returns the figures (also printed as one JSON line by the CLI entry). */
export async function main(deliveries = 200): Promise<DispatchFigures[]> {
  const results: DispatchFigures[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "deploybot-bench-"));
  try {
    results.push(await measure("embedded", { dataDir }, deliveries));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  if (process.env.DATABASE_URL) {
    results.push(await measure("postgres", { databaseUrl: process.env.DATABASE_URL }, deliveries));
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const figures = await main(Number(process.argv[2] ?? "200"));
  process.stdout.write(`${JSON.stringify({ bench: "queue-dispatch", results: figures })}\n`);
}
