/** The store and the outbox together: deploy runs' changes become `deployment` messages, in the same transaction. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEPLOYMENT_TOPIC, enqueueDeployments } from "../../src/deploy/enqueue-deployments.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { runDeployments } from "../../src/store/run-deployments.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`deployment messages on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db, { onChange: enqueueDeployments });
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    const messages = () =>
      db.query<{ key: string; payload: unknown; version: number }>(
        "SELECT key, payload, version FROM outbox WHERE topic = $1 ORDER BY id",
        [DEPLOYMENT_TOPIC],
      );

    it("records one coalesced message per deploy run, none for runs without an environment", async () => {
      const event = pushEvent({ branch: "main" });
      const accepted = await store.acceptDelivery(
        delivery(event, [run("test"), run("deploy", { needs: ["test"], environment: "production" })]),
      );
      const [test, deploy] = accepted.runs;
      expect(await messages()).toEqual([
        { key: deploy!.id, payload: { runId: deploy!.id, deliveryId: event.deliveryId }, version: 1 },
      ]);
      const { runs } = await store.claimRuns("w-1", 5);
      expect(runs.map((r) => r.id)).toEqual([test!.id]);
      await store.finishRun(test!.id, { state: "passed", detail: "Passed" });
      const claimed = await store.claimRuns("w-1", 5);
      expect(claimed.runs.map((r) => r.id)).toEqual([deploy!.id]);
      // The same message, replaced (newest payload wins): still one per run.
      expect(await messages()).toEqual([expect.objectContaining({ key: deploy!.id, version: 2 })]);
    });

    it("records the environment URL a finished step reported, with the step", async () => {
      const event = pushEvent({ branch: "url" });
      const accepted = await store.acceptDelivery(
        delivery(event, [run("deploy", { environment: "staging" })]),
      );
      const id = accepted.runs[0]!.id;
      await store.claimRuns("w-2", 5);
      await store.updateStep(id, { index: 0, state: "running" });
      expect((await store.getRun(id))?.environmentUrl).toBeNull();
      await store.updateStep(id, { index: 0, state: "passed", environmentUrl: "https://staging.example/" });
      expect((await store.getRun(id))?.environmentUrl).toBe("https://staging.example/");
      await store.finishRun(id, { state: "passed", detail: "Passed" });
      expect((await store.getRun(id))?.environmentUrl).toBe("https://staging.example/");
    });

    it("keeps each run's Deployment id and last status", async () => {
      const event = pushEvent({ branch: "records" });
      const accepted = await store.acceptDelivery(delivery(event, [run("deploy", { environment: "prod" })]));
      const id = accepted.runs[0]!.id;
      const records = runDeployments(db);
      expect(await records.get(id)).toBeNull();
      await records.markCreating(id);
      expect(await records.get(id)).toEqual({ deploymentId: null, createStarted: true, lastStatus: null });
      await records.setDeploymentId(id, 2 ** 40);
      await records.setLastStatus(id, "queued ");
      expect(await records.get(id)).toEqual({
        deploymentId: 2 ** 40,
        createStarted: true,
        lastStatus: "queued ",
      });
    });
  });
}
