import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pullRequestEvent, pushEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`run store on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db);
    });
    // Each test leaves nothing queued or running for the next one.
    afterEach(async () => {
      for (;;) {
        const { runs, jobsTaken } = await store.claimRuns("w-drain", 50);
        for (const r of runs) await store.finishRun(r.id, { state: "passed", detail: "drained" });
        if (jobsTaken === 0) break;
      }
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    it("records a delivery once: a redelivery is a duplicate and adds no run", async () => {
      const event = pushEvent({ branch: "dup" });
      const first = await store.acceptDelivery(delivery(event, [run("test")]));
      const second = await store.acceptDelivery(delivery(event, [run("test")]));
      expect(first.duplicate).toBe(false);
      expect(second.duplicate).toBe(true);
      expect(second.runs.map((r) => r.id)).toEqual(first.runs.map((r) => r.id));
      const rows = await db.query("SELECT id FROM runs WHERE delivery_id = $1", [event.deliveryId]);
      expect(rows).toHaveLength(1);
      const [stored] = first.runs;
      expect(stored?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(stored?.event).toEqual(event);
      expect(stored?.steps).toEqual([
        { index: 0, name: "Step one", state: "pending", exitCode: null, startedAt: null, finishedAt: null },
      ]);
      expect((await store.getDelivery(event.deliveryId))?.outcome).toBe("planned");
    });

    it("records an ignored delivery with its reason and no runs", async () => {
      await store.acceptDelivery({
        deliveryId: "ignored-1",
        eventName: "issues",
        event: null,
        repo: "acme/app",
        sha: null,
        outcome: "ignored",
        reason: "not a push or pull request",
        runs: [],
      });
      const stored = await store.getDelivery("ignored-1");
      expect(stored).toMatchObject({ outcome: "ignored", reason: "not a push or pull request", event: null });
      expect(await store.runsForDelivery("ignored-1")).toEqual([]);
    });

    it("supersedes queued runs of the same branch and pipeline, never a running one", async () => {
      const deploy = (sha: string) =>
        delivery(pushEvent({ branch: "release", sha }), [run("deploy", { environment: "staging" })]);
      const first = await store.acceptDelivery(deploy(`1111111${"0".repeat(33)}`));
      const claimed = await store.claimRuns("w-supersede", 10);
      expect(claimed.runs.map((r) => r.id)).toContain(first.runs[0]?.id);
      const second = await store.acceptDelivery(deploy(`2222222${"0".repeat(33)}`));
      expect(second.superseded).toEqual([]);
      const third = await store.acceptDelivery(deploy(`3333333${"0".repeat(33)}`));
      expect(third.superseded.map((r) => [r.id, r.state, r.detail])).toEqual([
        [second.runs[0]?.id, "superseded", "3333333"],
      ]);
      expect((await store.getRun(first.runs[0]!.id))?.state).toBe("running");
      // Another branch is not touched.
      const other = await store.acceptDelivery(
        delivery(pushEvent({ branch: "other" }), [run("deploy", { environment: "staging" })]),
      );
      expect(other.superseded).toEqual([]);
      await store.finishRun(first.runs[0]!.id, { state: "passed", detail: "ok" });
    });

    it("accepts a batch exactly as it would accept its deliveries one after another", async () => {
      const sha = (n: number) => `${String(n).repeat(7)}${"0".repeat(33)}`;
      const scenario = (half: string) => {
        const push = (n: number, branch: string, runs: ReturnType<typeof run>[]) =>
          delivery(pushEvent({ deliveryId: `${half}-${n}`, branch: `${half}-${branch}`, sha: sha(n) }), runs);
        const chain = [run("build"), run("ship", { needs: ["build"] })];
        const deploy = [run("deploy", { environment: `prod-${half}` })];
        return {
          before: push(1, "eq", chain),
          batch: [
            push(2, "eq", chain),
            push(3, "eq", [run("build")]),
            push(2, "eq", chain),
            push(4, "e1", deploy),
            push(5, "e2", deploy),
          ],
        };
      };
      const describeResult = (result: Awaited<ReturnType<RunStore["acceptDelivery"]>>) => ({
        duplicate: result.duplicate,
        runs: result.runs.map((r) => [r.pipeline, r.state, r.detail, r.steps.map((step) => step.state)]),
        superseded: result.superseded.map((r) => [r.pipeline, r.state, r.detail]),
        skipped: result.skipped.map((r) => [r.pipeline, r.state, r.detail]),
      });
      const current = async (result: Awaited<ReturnType<RunStore["acceptDelivery"]>>) =>
        describeResult({
          ...result,
          runs: await Promise.all(result.runs.map(async (r) => (await store.getRun(r.id))!)),
        });

      const one = scenario("one");
      await store.acceptDelivery(one.before);
      const oneByOne = [];
      for (const input of one.batch) oneByOne.push(await store.acceptDelivery(input));
      const batched = scenario("batch");
      await store.acceptDelivery(batched.before);
      const together = await store.acceptDeliveries(batched.batch);

      // What each delivery reports when it is accepted is the same, except that a run replaced within the
      // batch is already superseded when reported (one by one it was queued first, superseded later).
      expect(await Promise.all(together.map(current))).toEqual(await Promise.all(oneByOne.map(current)));
      expect(together.map((r) => r.superseded.map((s) => [s.pipeline, s.detail]))).toEqual([
        [
          ["build", "2222222"],
          ["ship", "2222222"],
        ],
        [["build", "3333333"]],
        [],
        [],
        [],
      ]);
      expect(together[0]!.runs.map((r) => r.state)).toEqual(["superseded", "skipped"]);
      // Deploys to one environment keep arrival order within the batch: the first claimed is the first sent.
      const claimed = await store.claimRuns("w-batch", 20);
      const deploys = claimed.runs
        .filter((r) => r.pipeline === "deploy")
        .map((r) => r.deliveryId)
        .sort();
      expect(deploys).toEqual(["batch-4", "one-4"]);
      for (const r of claimed.runs) await store.finishRun(r.id, { state: "passed", detail: "ok" });
    });

    it("starts a chained run only after its predecessor passed, and skips it when it failed", async () => {
      const chain = [run("build"), run("ship", { needs: ["build"] })];
      const failing = await store.acceptDelivery(delivery(pushEvent({ branch: "chain-a" }), chain));
      const passing = await store.acceptDelivery(delivery(pushEvent({ branch: "chain-b" }), chain));
      const claimed = await store.claimRuns("w-chain", 10);
      const ids = claimed.runs.map((r) => r.id);
      expect(ids).toContain(failing.runs[0]?.id);
      expect(ids).toContain(passing.runs[0]?.id);
      expect(ids).not.toContain(failing.runs[1]?.id);

      const failed = await store.finishRun(failing.runs[0]!.id, {
        state: "failed",
        detail: "Step one exited with 1",
      });
      expect(failed.changed.map((r) => [r.pipeline, r.state, r.detail])).toEqual([
        ["ship", "skipped", "build failed"],
      ]);
      expect((await store.getRun(failing.runs[1]!.id))?.steps[0]?.state).toBe("skipped");

      await store.finishRun(passing.runs[0]!.id, { state: "passed", detail: "ok" });
      const next = await store.claimRuns("w-chain", 10);
      expect(next.runs.map((r) => r.id)).toEqual([passing.runs[1]?.id]);
      await store.finishRun(passing.runs[1]!.id, { state: "passed", detail: "ok" });
    });

    it("queues fork runs only when that exact SHA is approved", async () => {
      const event = pullRequestEvent({ prNumber: 41 });
      const accepted = await store.acceptDelivery(
        delivery(event, [run("test", { initialState: "awaiting_approval" })]),
      );
      expect(accepted.runs[0]?.state).toBe("awaiting_approval");
      expect(await store.approveRuns("acme/app", 41, "f".repeat(40))).toEqual([]);
      const approved = await store.approveRuns("acme/app", 41, event.sha);
      expect(approved.map((r) => [r.id, r.state])).toEqual([[accepted.runs[0]?.id, "queued"]]);
      const claimed = await store.claimRuns("w-fork", 10);
      expect(claimed.runs.map((r) => r.id)).toEqual([accepted.runs[0]?.id]);
      await store.finishRun(accepted.runs[0]!.id, { state: "passed", detail: "ok" });
    });

    it("records steps and logs in order, batched, and tails them", async () => {
      const accepted = await store.acceptDelivery(
        delivery(pushEvent({ branch: "logs" }), [run("test", { stepNames: ["one", "two"] })]),
      );
      const id = accepted.runs[0]!.id;
      await store.updateStep(id, { index: 0, state: "running" });
      const sink = store.createRunLogSink(id, { flushMs: 50 });
      for (let i = 1; i <= 5; i++) sink.write(0, `line ${i}\n`);
      sink.write(0, "Exited with 0\n");
      sink.end(0, { bytes: 48, cutBytes: 0, lines: 6 });
      sink.write(1, "other step\n");
      await sink.close();
      await store.updateStep(id, { index: 0, state: "passed", exitCode: 0 });
      expect(await store.readLog(id, 0)).toBe("line 1\nline 2\nline 3\nline 4\nline 5\nExited with 0\n");
      expect(await store.readLog(id)).toBe(
        "line 1\nline 2\nline 3\nline 4\nline 5\nExited with 0\nother step\n",
      );
      expect(await store.logTail(id, 0, 2)).toBe("line 5\nExited with 0");
      const rows = await db.query("SELECT seq FROM logs WHERE run_id = $1", [id]);
      expect(rows.length).toBeLessThanOrEqual(2);
      const step = (await store.getRun(id))?.steps[0];
      expect(step).toMatchObject({ state: "passed", exitCode: 0 });
      expect(step?.startedAt).toBeInstanceOf(Date);
      expect(step?.finishedAt).toBeInstanceOf(Date);
    });

    it("ends the runs of a dead worker: a test is re-queued, a deploy is not", async () => {
      const accepted = await store.acceptDelivery(
        delivery(pushEvent({ branch: "crash" }), [
          run("unit"),
          run("deploy-crash", { environment: "crash-env" }),
          run("after", { needs: ["deploy-crash"] }),
        ]),
      );
      await store.registerWorker("w-dead");
      const claimed = await store.claimRuns("w-dead", 10);
      expect(claimed.runs).toHaveLength(2);
      // The worker's row says it stopped: it is gone.
      await store.markWorkerStopped("w-dead");
      const recovered = await store.recoverRuns({
        workerId: "w-alive",
        staleAfterMs: 30_000,
        startingUp: false,
      });
      expect(recovered.interrupted.map((r) => [r.pipeline, r.state, r.detail]).sort()).toEqual([
        ["deploy-crash", "interrupted", "Interrupted by a restart"],
        ["unit", "interrupted", "Interrupted by a restart"],
      ]);
      expect(recovered.requeued.map((r) => [r.pipeline, r.state, r.deliveryId])).toEqual([
        ["unit", "queued", accepted.runs[0]?.deliveryId],
      ]);
      expect(recovered.skipped.map((r) => [r.pipeline, r.detail])).toEqual([
        ["after", "deploy-crash failed"],
      ]);
      // The environment is free again and the copy runs.
      const again = await store.claimRuns("w-alive", 10);
      expect(again.runs.map((r) => r.id)).toEqual([recovered.requeued[0]?.id]);
      await store.finishRun(recovered.requeued[0]!.id, { state: "passed", detail: "ok" });
    });

    it("takes a worker with an old heartbeat for dead", async () => {
      const accepted = await store.acceptDelivery(delivery(pushEvent({ branch: "stale" }), [run("lint")]));
      await store.registerWorker("w-stale");
      await store.claimRuns("w-stale", 10);
      await db.query(
        "UPDATE workers SET host = 'elsewhere', heartbeat_at = now() - interval '1 hour' WHERE id = $1",
        ["w-stale"],
      );
      const recovered = await store.recoverRuns({
        workerId: "w-alive",
        staleAfterMs: 30_000,
        startingUp: false,
      });
      const expected = mode.name.startsWith("embedded")
        ? "Interrupted by a restart"
        : "Worker w-stale stopped responding";
      expect(recovered.interrupted.map((r) => [r.id, r.detail])).toEqual([[accepted.runs[0]?.id, expected]]);
      const copy = await store.claimRuns("w-alive", 10);
      for (const r of copy.runs) await store.finishRun(r.id, { state: "passed", detail: "ok" });
    });

    it("prunes finished runs beyond the kept count, with their steps and logs", async () => {
      // Its own four finished runs, finished in order, so the test holds whatever earlier tests left.
      const ids: string[] = [];
      for (const name of ["old-1", "old-2", "new-1", "new-2"]) {
        const accepted = await store.acceptDelivery(
          delivery(pushEvent({ branch: `prune-${name}` }), [run(name)]),
        );
        ids.push(accepted.runs[0]!.id);
      }
      const claimed = await store.claimRuns("w-prune", 10);
      expect(claimed.runs.map((r) => r.id).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const sink = store.createRunLogSink(id);
        sink.write(0, `log of ${id}\n`);
        await sink.close();
        await store.finishRun(id, { state: "passed", detail: "ok" });
      }
      const before = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM runs WHERE finished_at IS NOT NULL",
      );
      const active = await store.acceptDelivery(delivery(pushEvent({ branch: "prune" }), [run("keep-me")]));
      const pruned = await store.pruneFinished({ olderThanDays: 30, keepRuns: 2 });
      expect(pruned.runs).toBe(before[0]!.n - 2);
      const left = await db.query<{ id: string }>(
        "SELECT id FROM runs WHERE finished_at IS NOT NULL ORDER BY id",
      );
      expect(left.map((r) => r.id)).toEqual(ids.slice(2).sort());
      expect(await store.getRun(ids[0]!)).toBeNull();
      expect((await store.getRun(active.runs[0]!.id))?.state).toBe("queued");
      const orphans = await db.query(
        `SELECT 1 FROM steps s WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = s.run_id)
         UNION ALL SELECT 1 FROM logs l WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = l.run_id)`,
      );
      expect(orphans).toEqual([]);
      expect(await store.readLog(ids[3]!, 0)).toBe(`log of ${ids[3]}\n`);
    });
  });
}
