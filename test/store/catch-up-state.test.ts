import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCatchUp } from "../../src/catch-up/start-catch-up.ts";
import { catchUpState } from "../../src/store/catch-up-state.ts";
import { silentLogger } from "../../src/store/logger.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { storageModes } from "../helpers/database.ts";

const API = "https://ghe.example.test/api/v3";
beforeAll(() => nock.disableNetConnect());
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`catch-up state on ${mode.name}`, () => {
    it("one walk lease at a time; the mark only moves forward; recorded GUIDs", async () => {
      const created = await mode.create();
      const db = await openDatabase(created.options);
      try {
        const state = catchUpState(db);
        expect(await state.takeLease("a", 60_000)).toEqual({ taken: true, walkedUntil: null });
        expect(await state.takeLease("b", 60_000)).toEqual({ taken: false });
        await state.releaseLease("b", new Date("2030-01-01T00:00:00Z")); // not b's: no effect
        await state.releaseLease("a", new Date("2026-12-02T11:00:00Z"));
        expect(await state.takeLease("b", 60_000)).toEqual({
          taken: true,
          walkedUntil: new Date("2026-12-02T11:00:00Z"),
        });
        await state.releaseLease("b", new Date("2026-12-01T00:00:00Z"));
        expect(await state.takeLease("a", 0)).toMatchObject({
          walkedUntil: new Date("2026-12-02T11:00:00Z"),
        });
        // An expired lease (a walker that died) is taken over.
        expect(await state.takeLease("b", 60_000)).toMatchObject({ taken: true });
        await state.releaseLease("b", null);
        expect(await state.takeLease("a", 60_000)).toMatchObject({
          walkedUntil: new Date("2026-12-02T11:00:00Z"),
        });

        await db.query(
          "INSERT INTO deliveries (id, event_name, outcome) VALUES ('g-1', 'push', 'planned'), ('g-2', 'push', 'ignored')",
        );
        await state.recordStale({ id: "g-3", name: "push", payload: {} }, "older than g-1");
        expect(
          await state.recordedDeliveries(["g-1", "g-2", "g-3", "g-4", "'; DROP TABLE deliveries; --"]),
        ).toEqual(
          new Map([
            ["g-1", { repo: null, ref: null, planned: true }],
            ["g-2", { repo: null, ref: null, planned: false }],
            ["g-3", { repo: null, ref: null, planned: false }],
          ]),
        );
        expect(await state.recordedDeliveries([])).toEqual(new Map());
      } finally {
        await db.close();
        await created.cleanup();
      }
    });

    it("two servers starting together: only one lists the deliveries", async () => {
      const created = await mode.create();
      const db = await openDatabase(created.options);
      try {
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const scope = nock(API)
          .get("/app/hook/deliveries")
          .query(true)
          .reply(async () => {
            await held;
            return [200, []];
          });
        const walkers = [0, 1].map(() =>
          startCatchUp({
            client: new Octokit({ baseUrl: API }),
            state: catchUpState(db),
            intervalMs: 3_600_000,
            logger: silentLogger,
            route: async () => "recovered",
          }),
        );
        const results = Promise.all(walkers.map((walker) => walker.walkNow()));
        await new Promise((resolve) => setTimeout(resolve, 300));
        release();
        const walked = (await results).filter((result) => result !== null);
        expect(walked).toHaveLength(1);
        expect(scope.isDone()).toBe(true);
        for (const walker of walkers) await walker.stop();
      } finally {
        await db.close();
        await created.cleanup();
      }
    });
  });
}
