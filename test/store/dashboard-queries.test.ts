/** The dashboard's reads: filters, pages, environments, deliveries, and never a row of a hidden repository. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  environmentSummaries,
  filterChoices,
  recentDeliveries,
  recentRuns,
} from "../../src/store/dashboard-queries.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

const repo = (fullName: string) => {
  const [owner = "", name = ""] = fullName.split("/");
  return { owner, name, fullName, cloneUrl: `https://github.com/${fullName}.git`, private: true };
};

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`dashboard queries on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db, {});
      // acme/app: deploy v1 passed, then v2 running; acme/secret: one deploy; one ignored push in each.
      const v1 = pushEvent({ repo: repo("acme/app") });
      const a1 = await store.acceptDelivery(delivery(v1, [run("deploy", { environment: "production" })]));
      ids.v1 = a1.runs[0]!.id;
      const claimed = await store.claimRuns("w", 5);
      await store.finishRun(claimed.runs[0]!.id, { state: "passed", detail: "ok" });
      const v2 = pushEvent({ repo: repo("acme/app") });
      const a2 = await store.acceptDelivery(delivery(v2, [run("deploy", { environment: "production" })]));
      ids.v2 = a2.runs[0]!.id;
      await store.claimRuns("w", 5);
      const v3 = pushEvent({ repo: repo("acme/app") });
      const a3 = await store.acceptDelivery(
        delivery(v3, [run("test"), run("deploy", { environment: "production", needs: ["test"] })]),
      );
      ids.v3test = a3.runs[0]!.id;
      const secret = pushEvent({ repo: repo("acme/Secret") });
      const s1 = await store.acceptDelivery(delivery(secret, [run("deploy", { environment: "staging" })]));
      ids.secret = s1.runs[0]!.id;
      for (const [name, id] of [
        ["acme/app", "ignored-app"],
        ["acme/Secret", "ignored-secret"],
      ] as const) {
        await store.recordIgnoredDeliveries([
          {
            deliveryId: id,
            eventName: "push",
            event: null,
            repo: name,
            sha: "f".repeat(40),
            outcome: "ignored",
            reason: 'branch "feature/x" does not match branches [main]',
            runs: [],
          },
        ]);
      }
      await store.recordIgnoredDeliveries([
        {
          deliveryId: "no-repo",
          eventName: "ping",
          event: null,
          repo: null,
          sha: null,
          outcome: "ignored",
          reason: "ping",
          runs: [],
        },
      ]);
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    it("lists runs newest first, filtered and paged", async () => {
      const all = await recentRuns(db, { visible: undefined, offset: 0, limit: 10 });
      expect(all.runs.map((r) => r.id)).toEqual([ids.secret, expect.any(String), ids.v3test, ids.v2, ids.v1]);
      expect(all.more).toBe(false);
      const page = await recentRuns(db, { visible: undefined, offset: 1, limit: 2 });
      expect(page.runs.map((r) => r.id)).toEqual([all.runs[1]!.id, ids.v3test]);
      expect(page.more).toBe(true);
      const passed = await recentRuns(db, { visible: undefined, state: "passed", offset: 0, limit: 10 });
      expect(passed.runs.map((r) => r.id)).toEqual([ids.v1]);
      const staging = await recentRuns(db, {
        visible: undefined,
        environment: "staging",
        offset: 0,
        limit: 10,
      });
      expect(staging.runs.map((r) => r.id)).toEqual([ids.secret]);
      const byRepo = await recentRuns(db, { visible: undefined, repo: "ACME/secret", offset: 0, limit: 10 });
      expect(byRepo.runs.map((r) => r.id)).toEqual([ids.secret]);
    });

    it("shows a viewer only the repositories they can read, whatever the filter asks", async () => {
      const visible = ["acme/app"];
      const runs = await recentRuns(db, { visible, offset: 0, limit: 50 });
      expect(runs.runs.map((r) => r.event.repo.fullName)).not.toContain("acme/Secret");
      expect(runs.runs).toHaveLength(4);
      expect((await recentRuns(db, { visible, repo: "acme/Secret", offset: 0, limit: 50 })).runs).toEqual([]);
      const choices = await filterChoices(db, visible);
      expect(choices).toEqual({ repos: ["acme/app"], environments: ["production"] });
      const environments = await environmentSummaries(db, visible);
      expect(environments.map((e) => e.repo)).toEqual(["acme/app"]);
      const deliveries = await recentDeliveries(db, visible);
      expect(deliveries.map((d) => d.repo)).not.toContain("acme/Secret");
      expect(deliveries.map((d) => d.repo)).not.toContain(null);
      expect(await recentRuns(db, { visible: [], offset: 0, limit: 50 })).toEqual({ runs: [], more: false });
      expect(await recentDeliveries(db, [])).toEqual([]);
    });

    it("says per environment what is deployed, running and waiting", async () => {
      const [production] = await environmentSummaries(db, ["acme/app"]);
      expect(production).toMatchObject({
        repo: "acme/app",
        environment: "production",
        deployed: { id: ids.v1, pipeline: "deploy", state: "passed" },
        running: [{ id: ids.v2, state: "running" }],
        waiting: [{ state: "queued" }],
      });
    });

    it("lists deliveries with their outcome, reason and runs", async () => {
      const deliveries = await recentDeliveries(db, undefined);
      const ignored = deliveries.find((d) => d.id === "ignored-app");
      expect(ignored).toMatchObject({
        outcome: "ignored",
        reason: 'branch "feature/x" does not match branches [main]',
        runs: 0,
      });
      const planned = deliveries.find((d) => d.repo === "acme/Secret" && d.outcome === "planned");
      expect(planned).toMatchObject({ runs: 1, awaitingApproval: 0, ref: "refs/heads/main" });
      expect(deliveries.map((d) => d.id)).toContain("no-repo");
    });
  });
}
