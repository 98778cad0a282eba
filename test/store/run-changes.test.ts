import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { allOf, type RunChange } from "../../src/store/run-changes.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`run changes on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;
    const seen: { change: RunChange; states: string[] }[] = [];
    let failNext = false;

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db, {
        // Reads through the transaction: it sees the change before it commits.
        onChange: async (tx, change) => {
          const rows = await tx.query<{ state: string }>(
            "SELECT state FROM runs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq",
            [JSON.stringify(change.runIds)],
          );
          seen.push({ change, states: rows.map((row) => row.state) });
          if (failNext) throw new Error("the consumer broke");
        },
      });
    });
    beforeEach(() => {
      seen.length = 0;
      failNext = false;
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    it("tells each change, inside its transaction, with the runs it changed", async () => {
      const event = pushEvent({ branch: "changes" });
      const accepted = await store.acceptDelivery(
        delivery(event, [run("test"), run("deploy", { needs: ["test"] })]),
      );
      const [test, deploy] = accepted.runs.map((r) => r.id);
      const { runs } = await store.claimRuns("w-1", 5);
      expect(runs.map((r) => r.id)).toEqual([test]);
      await store.updateStep(test!, { index: 0, state: "running" });
      await store.finishRun(test!, { state: "failed", detail: "Failed" });
      expect(seen).toEqual([
        { change: { cause: "accepted", runIds: [test, deploy] }, states: ["queued", "queued"] },
        { change: { cause: "claimed", runIds: [test] }, states: ["running"] },
        { change: { cause: "step", runIds: [test] }, states: ["running"] },
        { change: { cause: "finished", runIds: [test, deploy] }, states: ["failed", "skipped"] },
      ]);
    });

    it("rolls the change back when the consumer throws: nothing is recorded that it did not see", async () => {
      const event = pushEvent({ branch: "rollback" });
      failNext = true;
      await expect(store.acceptDelivery(delivery(event, [run("test")]))).rejects.toThrow(
        "the consumer broke",
      );
      expect(await store.getDelivery(event.deliveryId)).toBeNull();
      failNext = false;
      const again = await store.acceptDelivery(delivery(event, [run("test")]));
      expect(again.duplicate).toBe(false);
      const { runs } = await store.claimRuns("w-2", 5);
      for (const r of runs) await store.finishRun(r.id, { state: "passed", detail: "ok" });
    });

    it("is not told of a transaction that changed no run", async () => {
      await store.acceptDelivery({
        deliveryId: "changes-ignored",
        eventName: "issues",
        event: null,
        repo: "acme/app",
        sha: null,
        outcome: "ignored",
        reason: "not handled",
        runs: [],
      });
      expect(seen).toEqual([]);
    });
  });
}

describe("allOf", () => {
  it("calls each handler in order and is undefined when there is none", async () => {
    const order: string[] = [];
    const both = allOf(
      async () => {
        order.push("a");
      },
      undefined,
      async () => {
        order.push("b");
      },
    );
    await both?.({} as never, { cause: "step", runIds: ["r"] });
    expect(order).toEqual(["a", "b"]);
    expect(allOf(undefined)).toBeUndefined();
  });
});
