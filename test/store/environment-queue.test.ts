/** Who deploys to an environment now and who waits in line, as the PR comment shows it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueReports } from "../../src/report/enqueue-reports.ts";
import type { ReportMessage } from "../../src/report/report-messages.ts";
import type { Database } from "../../src/store/database.ts";
import { environmentQueue, runsInLineBehind } from "../../src/store/environment-queue.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`environment queue on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;
    const reported: ReportMessage[] = [];

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db, {
        onChange: enqueueReports(async (_tx, messages) => {
          reported.push(...messages);
        }),
      });
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    const deploy = async (branch: string, sha: string) => {
      const event = pushEvent({ branch, sha, deliveryId: `d-${mode.name}-${branch}` });
      const accepted = await store.acceptDelivery(
        delivery(event, [run("deploy", { environment: "production" })]),
      );
      return { id: accepted.runs[0]!.id, deliveryId: event.deliveryId };
    };

    it("orders queued deploys behind the running one, and moves the line on each claim", async () => {
      const a = await deploy("a", "a".repeat(40));
      const b = await deploy("b", "b".repeat(40));
      const c = await deploy("c", "c".repeat(40));
      expect(await environmentQueue(db, "production")).toEqual({ running: null, queued: [a.id, b.id, c.id] });

      const plainEvent = pushEvent({ branch: "p", deliveryId: `d-${mode.name}-plain` });
      await store.acceptDelivery(delivery(plainEvent, [run("test")]));
      reported.length = 0;
      const claimed = await store.claimRuns("w-1", 10);
      // The claim moved the line: the deliveries still in it are reported again (their "Waiting for …" line).
      expect(new Set(reported.map((m) => m.key))).toEqual(
        new Set([a.deliveryId, plainEvent.deliveryId, b.deliveryId, c.deliveryId]),
      );
      expect(claimed.runs.filter((r) => r.environment === "production").map((r) => r.id)).toEqual([a.id]);
      expect(await environmentQueue(db, "production")).toEqual({
        running: { runId: a.id, sha: "a".repeat(40) },
        queued: [b.id, c.id],
      });
      expect((await runsInLineBehind(db, [a.id])).map((r) => r.delivery_id)).toEqual([
        b.deliveryId,
        c.deliveryId,
      ]);
      // Runs without an environment move no line.
      const plain = claimed.runs.filter((r) => r.environment === null).map((r) => r.id);
      expect(await runsInLineBehind(db, plain)).toEqual([]);
      expect(await environmentQueue(db, "staging")).toEqual({ running: null, queued: [] });

      await store.finishRun(a.id, { state: "passed", detail: "ok" });
      await store.claimRuns("w-1", 10);
      expect(await environmentQueue(db, "production")).toEqual({
        running: { runId: b.id, sha: "b".repeat(40) },
        queued: [c.id],
      });
    });
  });
}
