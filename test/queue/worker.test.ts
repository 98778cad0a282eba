import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Execute, SHUTDOWN_DETAIL, startWorker } from "../../src/queue/start-worker.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { FINAL_RUN_STATES } from "../../src/runs/run.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run, waitFor } from "./fixtures.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An execute that records when each run started and ended, sleeping `ms` (or until aborted). */
function recordingExecute(ms: (run: RunRecord) => number) {
  const intervals: { runId: string; environment: string | null; start: number; end: number }[] = [];
  let current = 0;
  let maxConcurrent = 0;
  const execute: Execute = async (run, { signal, logs, onStep }) => {
    current++;
    maxConcurrent = Math.max(maxConcurrent, current);
    const start = Date.now();
    onStep({ index: 0, state: "running" });
    logs.write(0, `running ${run.pipeline}\n`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms(run));
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    current--;
    intervals.push({ runId: run.id, environment: run.environment, start, end: Date.now() });
    const failed = run.pipeline.startsWith("fail");
    onStep({ index: 0, state: failed ? "failed" : "passed", exitCode: failed ? 1 : 0 });
    logs.write(0, failed ? "Exited with 1\n" : "Exited with 0\n");
    logs.end(0, { bytes: 0, cutBytes: 0, lines: 2 });
    return failed ? { state: "failed", detail: "Step one exited with 1" } : { state: "passed", detail: "ok" };
  };
  return { execute, intervals, maxConcurrent: () => maxConcurrent };
}

const finalRun = (store: RunStore, id: string) =>
  waitFor(async () => {
    const found = await store.getRun(id);
    return found && FINAL_RUN_STATES.has(found.state) ? found : undefined;
  }, `run ${id} to finish`);

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`worker on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db);
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    it("runs three quick pushes to one environment one at a time, superseding the middle one", async () => {
      const recorder = recordingExecute(() => 800);
      const changes: string[] = [];
      const worker = await startWorker({
        store,
        concurrency: 4,
        execute: recorder.execute,
        onRunChanged: (r) => changes.push(`${r.id}:${r.state}`),
      });
      try {
        const push = () =>
          store.acceptDelivery(
            delivery(pushEvent({ branch: "main" }), [
              run("deploy-production", { environment: "production" }),
            ]),
          );
        const first = await push();
        await waitFor(
          async () => ((await store.getRun(first.runs[0]!.id))?.state === "running" ? true : undefined),
          "first deploy to start",
        );
        const second = await push();
        const third = await push();
        expect(third.superseded.map((r) => r.id)).toEqual([second.runs[0]?.id]);
        expect((await finalRun(store, first.runs[0]!.id)).state).toBe("passed");
        const last = await finalRun(store, third.runs[0]!.id);
        expect(last.state).toBe("passed");
        expect(last.steps[0]).toMatchObject({ state: "passed", exitCode: 0 });
        expect(await store.readLog(last.id, 0)).toBe("running deploy-production\nExited with 0\n");
        const second2 = await store.getRun(second.runs[0]!.id);
        expect([second2?.state, second2?.detail]).toEqual([
          "superseded",
          third.runs[0]!.event.sha.slice(0, 7),
        ]);
        expect(recorder.intervals.map((i) => i.runId)).toEqual([first.runs[0]?.id, third.runs[0]?.id]);
        const [a, b] = recorder.intervals;
        expect(b!.start).toBeGreaterThanOrEqual(a!.end);
        expect(changes).toContain(`${first.runs[0]!.id}:running`);
        expect(changes).toContain(`${first.runs[0]!.id}:passed`);
      } finally {
        await worker.stop(1000);
      }
    });

    it("skips a chained pipeline whose predecessor failed, and bounds runs by concurrency", async () => {
      const recorder = recordingExecute(() => 300);
      const worker = await startWorker({
        store,
        concurrency: 2,
        execute: recorder.execute,
        onRunChanged() {},
      });
      try {
        const chain = await store.acceptDelivery(
          delivery(pushEvent({ branch: "chain" }), [
            run("fail-test"),
            run("deploy-after", { needs: ["fail-test"] }),
          ]),
        );
        const many = [];
        for (let i = 0; i < 5; i++) {
          many.push(await store.acceptDelivery(delivery(pushEvent({ branch: `b${i}` }), [run("lint")])));
        }
        const skipped = await finalRun(store, chain.runs[1]!.id);
        expect([skipped.state, skipped.detail]).toEqual(["skipped", "fail-test failed"]);
        expect((await store.getRun(chain.runs[0]!.id))?.state).toBe("failed");
        for (const accepted of many)
          expect((await finalRun(store, accepted.runs[0]!.id)).state).toBe("passed");
        // Six runs for two slots: both slots are used, never more.
        expect(recorder.maxConcurrent()).toBe(2);
        expect(recorder.intervals.map((i) => i.runId)).not.toContain(chain.runs[1]!.id);
      } finally {
        await worker.stop(1000);
      }
    });

    it("cancels running runs cleanly when stopped past the grace period", async () => {
      const recorder = recordingExecute(() => 60_000);
      const changes: RunRecord[] = [];
      const worker = await startWorker({
        store,
        concurrency: 1,
        execute: recorder.execute,
        onRunChanged: (r) => changes.push(r),
      });
      const accepted = await store.acceptDelivery(delivery(pushEvent({ branch: "long" }), [run("slow")]));
      const id = accepted.runs[0]!.id;
      await waitFor(
        async () => ((await store.getRun(id))?.state === "running" ? true : undefined),
        "run to start",
      );
      await worker.stop(200);
      const stopped = await store.getRun(id);
      expect([stopped?.state, stopped?.detail]).toEqual(["cancelled", SHUTDOWN_DETAIL]);
      expect(changes.at(-1)).toMatchObject({ id, state: "cancelled" });
      expect(worker.active()).toBe(0);
      // Nothing else picks it up afterwards.
      await sleep(300);
      expect((await store.getRun(id))?.state).toBe("cancelled");
    });
  });
}
