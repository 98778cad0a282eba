/** Real worker processes: `kill -9` mid-run, and two workers sharing one PostgreSQL. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startWorker } from "../../src/queue/start-worker.ts";
import { FINAL_RUN_STATES, type RunRecord } from "../../src/runs/run.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run, waitFor } from "./fixtures.ts";

const SCRIPT = path.join(import.meta.dirname, "worker-process.ts");

interface Event {
  type: "start" | "end";
  runId: string;
  environment: string | null;
  at: number;
  pid: number;
}

const readEvents = (file: string): Event[] =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event)
    : [];

function spawnWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
  });
  return { child, ready };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on("exit", () => resolve());
  });

const allFinal = (store: RunStore, ids: readonly string[]) =>
  waitFor(
    async () => {
      const runs = await Promise.all(ids.map((id) => store.getRun(id)));
      return runs.every((r) => r && FINAL_RUN_STATES.has(r.state)) ? (runs as RunRecord[]) : undefined;
    },
    "all runs to finish",
    90_000,
  );

const modes = await storageModes();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

for (const mode of modes) {
  describe.skipIf(mode.skipReason !== null)(`worker processes on ${mode.name}`, () => {
    it("after kill -9 mid-run, a restart ends the runs interrupted, re-queues the test and completes the queue", async () => {
      const created = await mode.create();
      cleanups.push(created.cleanup);
      const eventsFile = path.join(
        process.env.TMPDIR ?? "/tmp",
        `deploybot-events-${process.pid}-${Date.now()}.jsonl`,
      );
      cleanups.push(async () => rmSync(eventsFile, { force: true }));
      let db = await openDatabase(created.options);
      let store = await openRunStore(db);
      const unit = await store.acceptDelivery(delivery(pushEvent({ branch: "a" }), [run("unit")]));
      const deploy = await store.acceptDelivery(
        delivery(pushEvent({ branch: "b" }), [run("deploy", { environment: "production" })]),
      );
      const queuedTest = await store.acceptDelivery(delivery(pushEvent({ branch: "c" }), [run("lint")]));
      const queuedDeploy = await store.acceptDelivery(
        delivery(pushEvent({ branch: "d" }), [run("deploy", { environment: "production" })]),
      );
      await store.close();
      await db.close();

      const env: Record<string, string> =
        "dataDir" in created.options
          ? { DATA_DIR: created.options.dataDir }
          : { DATABASE_URL: created.options.databaseUrl };
      const worker = spawnWorker({ ...env, EVENTS_FILE: eventsFile, SLEEP_MS: "120000", CONCURRENCY: "2" });
      await worker.ready;
      await waitFor(async () => (readEvents(eventsFile).length >= 2 ? true : undefined), "two runs to start");
      const started = readEvents(eventsFile).map((e) => e.runId);
      expect(started.sort()).toEqual([unit.runs[0]!.id, deploy.runs[0]!.id].sort());
      worker.child.kill("SIGKILL");
      await exited(worker.child);

      db = await openDatabase(created.options);
      store = await openRunStore(db);
      const changed: RunRecord[] = [];
      const executed: string[] = [];
      const restarted = await startWorker({
        store,
        concurrency: 2,
        async execute(r) {
          executed.push(r.id);
          return { state: "passed", detail: "ok" };
        },
        onRunChanged: (r) => changed.push(r),
      });
      try {
        const [unitRun, deployRun, lintRun, laterDeploy] = await allFinal(store, [
          unit.runs[0]!.id,
          deploy.runs[0]!.id,
          queuedTest.runs[0]!.id,
          queuedDeploy.runs[0]!.id,
        ]);
        expect([unitRun?.state, unitRun?.detail]).toEqual(["interrupted", "Interrupted by a restart"]);
        expect([deployRun?.state, deployRun?.detail]).toEqual(["interrupted", "Interrupted by a restart"]);
        expect(lintRun?.state).toBe("passed");
        expect(laterDeploy?.state).toBe("passed");
        // The test (not a deploy) got a fresh run in the same delivery, which passed; the deploy did not.
        // The re-queued run is created during recovery, so it can still be queued when the four
        // original runs are final: wait for it as well.
        const unitRuns = await waitFor(async () => {
          const runs = await store.runsForDelivery(unit.runs[0]!.deliveryId);
          return runs.length === 2 && runs.every((r) => FINAL_RUN_STATES.has(r.state)) ? runs : undefined;
        }, "the re-queued test run to finish");
        expect(unitRuns.map((r) => [r.pipeline, r.state])).toEqual([
          ["unit", "interrupted"],
          ["unit", "passed"],
        ]);
        expect(unitRuns[1]!.id).not.toBe(unitRun!.id);
        expect(await store.runsForDelivery(deploy.runs[0]!.deliveryId)).toHaveLength(1);
        expect(executed).not.toContain(deploy.runs[0]!.id);
        // Reported, so no commit status stays pending.
        expect(
          changed
            .filter((r) => r.state === "interrupted")
            .map((r) => r.id)
            .sort(),
        ).toEqual([unit.runs[0]!.id, deploy.runs[0]!.id].sort());
      } finally {
        await restarted.stop(1000);
        await store.close();
        await db.close();
      }
    }, 120_000);
  });
}

const postgres = modes.find((mode) => mode.name.startsWith("PostgreSQL"))!;
describe.skipIf(postgres.skipReason !== null)(`two worker processes on ${postgres.name}`, () => {
  it("never run a job twice and never overlap runs of one environment", async () => {
    const created = await postgres.create();
    cleanups.push(created.cleanup);
    if (!("databaseUrl" in created.options)) throw new Error("expected PostgreSQL");
    const eventsFile = path.join(
      process.env.TMPDIR ?? "/tmp",
      `deploybot-events-${process.pid}-${Date.now()}-two.jsonl`,
    );
    cleanups.push(async () => rmSync(eventsFile, { force: true }));
    const db = await openDatabase(created.options);
    const store = await openRunStore(db);
    const env = {
      DATABASE_URL: created.options.databaseUrl,
      EVENTS_FILE: eventsFile,
      SLEEP_MS: "250",
      CONCURRENCY: "3",
    };
    const workers = [spawnWorker(env), spawnWorker(env)];
    try {
      await Promise.all(workers.map((w) => w.ready));
      const ids: string[] = [];
      const environmentOrder = new Map<string, string[]>();
      for (let i = 0; i < 24; i++) {
        const environment = i % 3 === 0 ? "production" : i % 3 === 1 ? "staging" : undefined;
        const accepted = await store.acceptDelivery(
          delivery(pushEvent({ branch: `branch-${i}` }), [
            run(environment ? "deploy" : "test", { environment }),
          ]),
        );
        const id = accepted.runs[0]!.id;
        ids.push(id);
        if (environment)
          environmentOrder.set(environment, [...(environmentOrder.get(environment) ?? []), id]);
      }
      const runs = await allFinal(store, ids);
      expect(runs.every((r) => r.state === "passed")).toBe(true);

      const events = readEvents(eventsFile);
      const starts = events.filter((e) => e.type === "start");
      expect(starts).toHaveLength(ids.length);
      expect(new Set(starts.map((e) => e.runId)).size).toBe(ids.length);
      for (const [environment, order] of environmentOrder) {
        const intervals = order.map((id) => ({
          start: events.find((e) => e.type === "start" && e.runId === id)!.at,
          end: events.find((e) => e.type === "end" && e.runId === id)!.at,
        }));
        // Arrival order, one at a time: each starts after the previous one ended.
        for (let i = 1; i < intervals.length; i++) {
          expect(intervals[i]!.start, `${environment} run ${i}`).toBeGreaterThanOrEqual(
            intervals[i - 1]!.end,
          );
        }
      }
    } finally {
      for (const w of workers) w.child.kill("SIGTERM");
      await Promise.all(workers.map((w) => exited(w.child)));
      await store.close();
      await db.close();
    }
  }, 120_000);
});
