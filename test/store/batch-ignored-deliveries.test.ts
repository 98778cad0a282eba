import { afterEach, describe, expect, it } from "vitest";
import { batchIgnoredDeliveries } from "../../src/store/batch-ignored-deliveries.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { createTempDataDir, type TempDataDir } from "../helpers/database.ts";

const ignored = (id: string) => ({
  deliveryId: id,
  eventName: "push",
  event: null,
  repo: "acme/app",
  sha: null,
  outcome: "ignored" as const,
  reason: "no rule matched",
  runs: [],
});

describe("batchIgnoredDeliveries", () => {
  let dir: TempDataDir | undefined;
  let store: RunStore | undefined;
  afterEach(async () => {
    await store?.close();
    await store?.db.close();
    await dir?.remove();
  });

  it("writes buffered deliveries together, in as few transactions as the batch size allows", async () => {
    const batches: number[] = [];
    const batcher = batchIgnoredDeliveries(async (inputs) => void batches.push(inputs.length), {
      maxBatch: 3,
      intervalMs: 10_000,
      onError: () => {},
    });
    for (let i = 0; i < 7; i++) batcher.add(ignored(`d${i}`));
    await batcher.flush();
    expect(batches).toEqual([3, 3, 1]);
  });

  it("reports a failed write and keeps going", async () => {
    const errors: number[] = [];
    let calls = 0;
    const batcher = batchIgnoredDeliveries(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("disk full");
      },
      { onError: (_, count) => errors.push(count), intervalMs: 10_000 },
    );
    batcher.add(ignored("a"));
    await batcher.flush();
    batcher.add(ignored("b"));
    await batcher.flush();
    expect(errors).toEqual([1]);
    expect(calls).toBe(2);
  });

  it("records them durably in the store with their reason, once per delivery id", async () => {
    dir = await createTempDataDir();
    store = await openRunStore(await openDatabase({ dataDir: dir.dataDir }));
    const opened = store;
    const batcher = batchIgnoredDeliveries((inputs) => opened.recordIgnoredDeliveries(inputs), {
      onError: () => {},
    });
    batcher.add(ignored("x1"));
    batcher.add(ignored("x2"));
    batcher.add(ignored("x1"));
    await batcher.flush();
    expect(await store.getDelivery("x1")).toMatchObject({ outcome: "ignored", reason: "no rule matched" });
    expect(await store.getDelivery("x2")).toMatchObject({ outcome: "ignored" });
  });
});
