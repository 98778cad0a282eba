import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCatchUp } from "../../src/catch-up/start-catch-up.ts";
import type { CatchUpState } from "../../src/store/catch-up-state.ts";
import { silentLogger } from "../../src/store/logger.ts";

const API = "https://ghe.example.test/api/v3";
beforeAll(() => nock.disableNetConnect());
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** An in-memory state: one lease, and the marks each walk released with. */
function memoryState(): CatchUpState & { marks: (Date | null)[] } {
  let holder: string | undefined;
  let walkedUntil: Date | null = null;
  const marks: (Date | null)[] = [];
  return {
    marks,
    async takeLease(owner) {
      if (holder && holder !== owner) return { taken: false };
      holder = owner;
      return { taken: true, walkedUntil };
    },
    async releaseLease(owner, until) {
      if (holder !== owner) return;
      holder = undefined;
      marks.push(until);
      if (until && (!walkedUntil || until > walkedUntil)) walkedUntil = until;
    },
    async recordStale() {},
    async recordedDeliveries() {
      return new Map();
    },
  };
}

const item = (id: number, iso: string) => ({
  id,
  guid: `g-${id}`,
  delivered_at: iso,
  redelivery: false,
  duration: 0.1,
  status: "OK",
  status_code: 202,
  event: "label",
  action: "created",
  installation_id: 1,
  repository_id: 1,
});

describe("startCatchUp", () => {
  it("walks at start-up and every interval, waits out a Retry-After, and carries the mark from walk to walk", async () => {
    const recent = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    const times: number[] = [];
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(() => {
        times.push(Date.now());
        return [200, [item(1, recent)]];
      })
      .get("/app/hook/deliveries")
      .query(true)
      .reply(() => {
        times.push(Date.now());
        return [429, { message: "slow down" }, { "retry-after": "1" }];
      })
      .get("/app/hook/deliveries")
      .query(true)
      .reply(() => {
        times.push(Date.now());
        return [200, []];
      });
    const state = memoryState();
    const catchUp = startCatchUp({
      client: new Octokit({ baseUrl: API }),
      state,
      intervalMs: 200,
      throttleMs: 0,
      logger: silentLogger,
      route: async () => "ignored",
    });
    try {
      const deadline = Date.now() + 5000;
      while (times.length < 3 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(scope.isDone()).toBe(true);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(180);
      // After the 429 the next walk waited the server's 1 s, not the 200 ms interval.
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(state.marks.slice(0, 3)).toEqual([new Date(recent), null, new Date(recent)]);
    } finally {
      await catchUp.stop();
    }
  });

  it("renews its lease while a walk runs, so a short lease outlives a slow walk (and a killed walker's does not)", async () => {
    const scope = nock(API).get("/app/hook/deliveries").query(true).delay(400).reply(200, []);
    const state = memoryState();
    const takes: number[] = [];
    const counting: CatchUpState = {
      ...state,
      takeLease: (owner, ms) => {
        takes.push(ms);
        return state.takeLease(owner, ms);
      },
    };
    const catchUp = startCatchUp({
      client: new Octokit({ baseUrl: API }),
      state: counting,
      intervalMs: 60_000,
      leaseMs: 90,
      throttleMs: 0,
      logger: silentLogger,
      route: async () => "ignored",
    });
    try {
      const deadline = Date.now() + 5000;
      while (state.marks.length < 1 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(scope.isDone()).toBe(true);
      // One take, then a renewal every 30 ms over the 400 ms walk.
      expect(takes.length).toBeGreaterThanOrEqual(8);
      expect(new Set(takes)).toEqual(new Set([90]));
    } finally {
      await catchUp.stop();
    }
  });
});
