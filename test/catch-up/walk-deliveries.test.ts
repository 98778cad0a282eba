/**
 * One catch-up walk against the deliveries API (nock): pagination by cursor, what is fetched and routed, and
 * the hostile answers (a listed delivery that 404s, malformed payloads, unhandled events, a GUID seen twice,
 * cursor loops, 429 with Retry-After, 5xx mid-walk).
 */
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WalkDeps, walkDeliveries } from "../../src/catch-up/walk-deliveries.ts";
import type { RecordedDelivery } from "../../src/catch-up/walk-plan.ts";
import type { Delivery } from "../../src/events/delivery.ts";
import type { DeliveryOutcome } from "../../src/observe/metrics.ts";

const API = "https://ghe.example.test/api/v3";
const NOW = new Date("2026-12-02T12:00:00Z");
const LIST = "/api/v3/app/hook/deliveries";

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const row = (id: number, guid: string, event: string, iso: string, action?: string) => ({
  id,
  guid,
  delivered_at: iso,
  redelivery: false,
  duration: 0.1,
  status: "failed to connect",
  status_code: 502,
  event,
  action: action ?? (event === "push" ? null : "opened"),
  installation_id: 4242,
  repository_id: 1296269,
  throttled_at: null,
});

const detail = (
  id: number,
  guid: string,
  event: string,
  payload: unknown = { ref: `refs/heads/${guid}` },
) => ({
  ...row(id, guid, event, "2026-12-02T11:00:00Z"),
  url: "https://bot.example.test/api/github/webhooks",
  request: { headers: { "X-GitHub-Event": event, "X-GitHub-Delivery": guid, Accept: "*/*" }, payload },
  response: { headers: {}, payload: "" },
});

const link = (cursor: string) => ({
  link: `<${API}/app/hook/deliveries?per_page=100&cursor=${cursor}>; rel="next"`,
});

function harness(
  overrides: Partial<WalkDeps> & {
    recordedGuids?: string[];
    recordedAs?: Record<string, RecordedDelivery>;
  } = {},
) {
  const routed: Delivery[] = [];
  const stale: { id: string; reason: string }[] = [];
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const deps: WalkDeps = {
    client: new Octokit({ baseUrl: API, request: { retries: 0 } }),
    recorded: async (guids) =>
      new Map(
        guids.flatMap((guid): [string, RecordedDelivery][] => {
          const as = overrides.recordedAs?.[guid];
          if (as) return [[guid, as]];
          return overrides.recordedGuids?.includes(guid)
            ? [[guid, { repo: null, ref: null, planned: false }]]
            : [];
        }),
      ),
    recordStale: async (delivery, reason) => void stale.push({ id: delivery.id, reason }),
    route: async (delivery): Promise<DeliveryOutcome> => {
      routed.push(delivery);
      return "recovered";
    },
    logger: {
      info: (obj, msg) => lines.push({ level: "info", obj: obj as Record<string, unknown>, msg: msg ?? "" }),
      warn: (obj, msg) => lines.push({ level: "warn", obj: obj as Record<string, unknown>, msg: msg ?? "" }),
    },
    now: () => NOW,
    throttleMs: 0,
    ...overrides,
  };
  return { deps, routed, lines, stale };
}

describe("walkDeliveries", () => {
  it("pages back to the window, fetches each missed GUID of a handled event once, oldest first", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(
        200,
        [
          row(10, "g-push-2", "push", "2026-12-02T11:50:00Z"),
          row(9, "g-label", "label", "2026-12-02T11:45:00Z"),
          row(8, "g-push-1", "push", "2026-12-02T11:40:00Z"),
        ],
        link("v1_8"),
      )
      .get("/app/hook/deliveries")
      .query({ per_page: 100, cursor: "v1_8" })
      .reply(
        200,
        [
          row(7, "g-push-1", "push", "2026-12-02T11:30:00Z"),
          row(6, "g-recorded", "push", "2026-12-02T11:20:00Z"),
          row(5, "g-too-old", "push", "2026-11-20T11:00:00Z"),
        ],
        link("v1_5"),
      )
      .get("/app/hook/deliveries/7")
      .reply(200, detail(7, "g-push-1", "push"))
      .get("/app/hook/deliveries/10")
      .reply(200, detail(10, "g-push-2", "push"));
    const { deps, routed, lines } = harness({ recordedGuids: ["g-recorded"] });
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed).toEqual([
      { id: "g-push-1", name: "push", payload: { ref: "refs/heads/g-push-1" } },
      { id: "g-push-2", name: "push", payload: { ref: "refs/heads/g-push-2" } },
    ]);
    expect(result.walkedUntil).toEqual(new Date("2026-12-02T11:50:00Z"));
    expect(result.counts).toMatchObject({
      pages: 2,
      listed: 6,
      unhandled: 1,
      recorded: 1,
      fetched: 2,
      recovered: 2,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "catch-up walk done",
      obj: { how: "window", recovered: 2 },
    });
  });

  it("of check deliveries, fetches only re-runs and button clicks, never the App's own check runs", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(200, [
        row(14, "g-button", "check_run", "2026-12-02T11:50:00Z", "requested_action"),
        row(13, "g-completed", "check_run", "2026-12-02T11:45:00Z", "completed"),
        row(12, "g-created", "check_run", "2026-12-02T11:40:00Z", "created"),
        row(11, "g-rerun-all", "check_suite", "2026-12-02T11:35:00Z", "rerequested"),
      ])
      .get("/app/hook/deliveries/11")
      .reply(200, detail(11, "g-rerun-all", "check_suite", { action: "rerequested" }))
      .get("/app/hook/deliveries/14")
      .reply(200, detail(14, "g-button", "check_run", { action: "requested_action" }));
    const { deps, routed } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => `${d.name}:${d.id}`)).toEqual(["check_suite:g-rerun-all", "check_run:g-button"]);
    expect(result.counts).toMatchObject({ listed: 4, unhandled: 2, fetched: 2, recovered: 2 });
  });

  it("stops at where the last walk ended (less the overlap) instead of 3 days back", async () => {
    const scope = nock(API)
      .get(LIST.replace("/api/v3", ""))
      .query({ per_page: 100 })
      .reply(
        200,
        [row(3, "g-new", "push", "2026-12-02T11:55:00Z"), row(2, "g-before", "push", "2026-12-02T11:00:00Z")],
        link("v1_2"),
      )
      .get("/app/hook/deliveries/3")
      .reply(200, detail(3, "g-new", "push"));
    const { deps, routed } = harness();
    const result = await walkDeliveries(deps, new Date("2026-12-02T11:30:00Z"));
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => d.id)).toEqual(["g-new"]);
    expect(result.walkedUntil).toEqual(new Date("2026-12-02T11:55:00Z"));
  });

  it("leaves out a listed delivery whose fetch answers 404, and goes on", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        row(2, "g-b", "push", "2026-12-02T11:50:00Z"),
        row(1, "g-a", "push", "2026-12-02T11:40:00Z"),
      ])
      .get("/app/hook/deliveries/1")
      .reply(404, { message: "Not Found" })
      .get("/app/hook/deliveries/2")
      .reply(200, detail(2, "g-b", "push"));
    const { deps, routed } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => d.id)).toEqual(["g-b"]);
    expect(result.counts).toMatchObject({ gone: 1, recovered: 1 });
    expect(result.walkedUntil).not.toBeNull();
  });

  it.each([
    [
      "a null payload",
      {
        ...detail(1, "g-a", "push"),
        request: { headers: { "X-GitHub-Event": "push", "X-GitHub-Delivery": "g-a" }, payload: null },
      },
    ],
    ["an array payload", detail(1, "g-a", "push", [1, 2])],
    ["no request", { ...detail(1, "g-a", "push"), request: undefined }],
    [
      "another event in the headers",
      {
        ...detail(1, "g-a", "push"),
        request: { headers: { "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "g-a" }, payload: {} },
      },
    ],
    [
      "another GUID in the headers",
      {
        ...detail(1, "g-a", "push"),
        request: { headers: { "X-GitHub-Event": "push", "X-GitHub-Delivery": "g-other" }, payload: {} },
      },
    ],
    ["a string body", "<html>oops</html>"],
  ])("does not route a fetched delivery with %s", async (_, body) => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [row(1, "g-a", "push", "2026-12-02T11:40:00Z")])
      .get("/app/hook/deliveries/1")
      .reply(200, body as nock.Body);
    const { deps, routed, lines } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed).toEqual([]);
    expect(result.counts).toMatchObject({ fetched: 1, malformed: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.obj.problems).toEqual([expect.stringMatching(/^g-a: /)]);
  });

  it("counts malformed listing rows and fetches none of them", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        { ...row(1, "g-a", "push", "2026-12-02T11:40:00Z"), guid: undefined },
        { ...row(2, "g-b", "push", "2026-12-02T11:40:00Z"), delivered_at: "yesterday-ish" },
        { ...row(3, "g-c", "push", "2026-12-02T11:40:00Z"), id: "3" },
        null,
      ]);
    const { deps, routed } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed).toEqual([]);
    expect(result.counts.malformed).toBe(4);
  });

  it("ends a cursor loop without moving the mark, after routing what it found", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(200, [row(2, "g-b", "push", "2026-12-02T11:50:00Z")], link("v1_loop"))
      .get("/app/hook/deliveries")
      .query({ per_page: 100, cursor: "v1_loop" })
      .reply(200, [row(1, "g-a", "push", "2026-12-02T11:40:00Z")], link("v1_loop"))
      .get("/app/hook/deliveries/1")
      .reply(200, detail(1, "g-a", "push"))
      .get("/app/hook/deliveries/2")
      .reply(200, detail(2, "g-b", "push"));
    const { deps, routed, lines } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => d.id)).toEqual(["g-a", "g-b"]);
    expect(result.walkedUntil).toBeNull();
    expect(lines.map((line) => line.obj.how)).toEqual(["cursor loop"]);
  });

  it("stops on 429 with Retry-After, fetching nothing, and says how long to wait", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(429, { message: "Too Many Requests" }, { "retry-after": "120" });
    const { deps, routed, lines } = harness();
    const result = await walkDeliveries(deps, new Date("2026-12-02T11:00:00Z"));
    expect(scope.isDone()).toBe(true);
    expect(routed).toEqual([]);
    expect(result).toMatchObject({ walkedUntil: null, retryAfterMs: 120_000 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", obj: { how: "list" } });
    expect(String(lines[0]?.obj.failure)).toMatch(/^429/);
  });

  it("stops on a primary rate limit (403, remaining 0) until the reset", async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(
        403,
        { message: "API rate limit exceeded" },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      );
    const { deps } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(result.walkedUntil).toBeNull();
    expect(result.retryAfterMs).toBeGreaterThan(590_000);
  });

  it("stops on a 5xx mid-walk: what was routed stays routed, the mark does not move", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        row(2, "g-b", "push", "2026-12-02T11:50:00Z"),
        row(1, "g-a", "push", "2026-12-02T11:40:00Z"),
      ])
      .get("/app/hook/deliveries/1")
      .reply(200, detail(1, "g-a", "push"))
      .get("/app/hook/deliveries/2")
      .reply(502, { message: "Bad Gateway" });
    const { deps, routed } = harness();
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => d.id)).toEqual(["g-a"]);
    expect(result.walkedUntil).toBeNull();
  });

  it.each([
    ["an object", { deliveries: [] }],
    ["a string", "not json"],
  ])("stops when the listing is %s", async (_, body) => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, body as nock.Body);
    const { deps } = harness();
    expect((await walkDeliveries(deps, null)).walkedUntil).toBeNull();
    expect(scope.isDone()).toBe(true);
  });

  it("a delivery recorded meanwhile (duplicate) and a delivery that runs nothing are counted, not retried", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        row(2, "g-b", "issue_comment", "2026-12-02T11:50:00Z"),
        row(1, "g-a", "push", "2026-12-02T11:40:00Z"),
      ])
      .get("/app/hook/deliveries/1")
      .reply(200, detail(1, "g-a", "push"))
      .get("/app/hook/deliveries/2")
      .reply(200, detail(2, "g-b", "issue_comment"));
    const outcomes: DeliveryOutcome[] = ["duplicate", "ignored"];
    const { deps } = harness({ route: async () => outcomes.shift() ?? "ignored" });
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(result.counts).toMatchObject({ duplicate: 1, ignored: 1, recovered: 0 });
    expect(result.walkedUntil).not.toBeNull();
  });

  it("stops without moving the mark when routing fails (the store is down)", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [row(1, "g-a", "push", "2026-12-02T11:40:00Z")])
      .get("/app/hook/deliveries/1")
      .reply(200, detail(1, "g-a", "push"));
    const { deps } = harness({
      route: async () => {
        throw new Error("database is closed");
      },
    });
    expect((await walkDeliveries(deps, null)).walkedUntil).toBeNull();
    expect(scope.isDone()).toBe(true);
  });

  it("does not run a missed push older than one accepted since for the same branch (records it, runs nothing)", async () => {
    const push = (guid: string, ref: string) => ({ ref, repository: { full_name: "o/r" }, after: guid });
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        row(4, "g-live-main", "push", "2026-12-02T11:50:00Z"),
        row(3, "g-missed-other", "push", "2026-12-02T11:45:00Z"),
        row(2, "g-missed-main", "push", "2026-12-02T11:40:00Z"),
        row(1, "g-older-live-main", "push", "2026-12-02T11:30:00Z"),
      ])
      .get("/app/hook/deliveries/2")
      .reply(200, detail(2, "g-missed-main", "push", push("g-missed-main", "refs/heads/main")))
      .get("/app/hook/deliveries/3")
      .reply(200, detail(3, "g-missed-other", "push", push("g-missed-other", "refs/heads/other")));
    const { deps, routed, stale } = harness({
      recordedAs: {
        "g-live-main": { repo: "o/r", ref: "refs/heads/main", planned: true },
        "g-older-live-main": { repo: "o/r", ref: "refs/heads/main", planned: true },
      },
    });
    const result = await walkDeliveries(deps, null);
    expect(scope.isDone()).toBe(true);
    expect(routed.map((d) => d.id)).toEqual(["g-missed-other"]);
    expect(stale).toEqual([
      {
        id: "g-missed-main",
        reason: "recovered after a newer delivery for refs/heads/main had been accepted: not run",
      },
    ]);
    expect(result.counts).toMatchObject({ stale: 1, recovered: 1 });
  });

  it("spaces its calls by the throttle", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .reply(200, [
        row(2, "g-b", "push", "2026-12-02T11:50:00Z"),
        row(1, "g-a", "push", "2026-12-02T11:40:00Z"),
      ])
      .get("/app/hook/deliveries/1")
      .reply(200, detail(1, "g-a", "push"))
      .get("/app/hook/deliveries/2")
      .reply(200, detail(2, "g-b", "push"));
    const { deps } = harness({ throttleMs: 150 });
    const started = performance.now();
    await walkDeliveries(deps, null);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(scope.isDone()).toBe(true);
  });
});
