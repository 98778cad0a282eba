import { describe, expect, it } from "vitest";
import {
  afterPage,
  type ListedDelivery,
  MAX_LOOK_BACK_MS,
  newerAccepted,
  nextCursor,
  OVERLAP_MS,
  planRecovery,
  walkStopAt,
} from "../../src/catch-up/walk-plan.ts";

const NOW = new Date("2026-12-02T12:00:00Z");
const at = (iso: string) => new Date(iso);
const listed = (id: number, guid: string, event: string, iso: string): ListedDelivery => ({
  id,
  guid,
  event,
  deliveredAt: at(iso),
});

describe("walkStopAt", () => {
  it.each([
    ["never walked: 3 days back", null, new Date(NOW.getTime() - MAX_LOOK_BACK_MS)],
    ["walked an hour ago: that, less the overlap", at("2026-12-02T11:00:00Z"), at("2026-12-02T10:50:00Z")],
    ["walked a week ago: still at most 3 days", at("2026-11-25T12:00:00Z"), at("2026-11-29T12:00:00Z")],
    ["a mark in the future (clock skew): now", at("2026-12-03T00:00:00Z"), NOW],
  ])("%s", (_, walkedUntil, expected) => {
    expect(walkStopAt(NOW, walkedUntil)).toEqual(expected);
  });

  it("overlaps by ten minutes", () => expect(OVERLAP_MS).toBe(600_000));
});

describe("nextCursor", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ['<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_42>; rel="next"', "v1_42"],
    [
      '<https://ghe.example/api/v3/app/hook/deliveries?cursor=v1_1>; rel="prev", <https://ghe.example/api/v3/app/hook/deliveries?cursor=v1_9&per_page=100>; rel="next"',
      "v1_9",
    ],
    ['<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_1>; rel="prev"', undefined],
    ['<https://api.github.com/app/hook/deliveries?page=2>; rel="next"', undefined],
    ['<https://api.github.com/app/hook/deliveries?cursor=a%20b>; rel="next"', "a b"],
    ["garbage; rel=next", undefined],
    ['<http://[::1>; rel="next"', undefined],
  ])("%j → %j", (link, cursor) => {
    expect(nextCursor(link)).toBe(cursor);
  });
});

describe("afterPage", () => {
  const stopAt = at("2026-12-02T10:00:00Z");
  const fresh = [
    listed(3, "c", "push", "2026-12-02T11:30:00Z"),
    listed(2, "b", "push", "2026-12-02T11:00:00Z"),
  ];
  const crossing = [...fresh, listed(1, "a", "push", "2026-12-02T09:59:59Z")];
  it.each([
    ["a page inside the window with a next cursor", fresh, "v1_2", [], 1, { next: "page", cursor: "v1_2" }],
    ["a page reaching past the window", crossing, "v1_1", [], 1, { next: "done", why: "window" }],
    ["no next link", fresh, undefined, [], 1, { next: "done", why: "last page" }],
    ["an empty page", [], "v1_2", [], 1, { next: "done", why: "last page" }],
    ["a cursor already followed", fresh, "v1_2", ["v1_2"], 2, { next: "done", why: "cursor loop" }],
    ["the page limit", fresh, "v1_9", [], 5, { next: "done", why: "page limit" }],
  ])("%s", (_, page, cursor, seen, pages, expected) => {
    expect(afterPage(page, cursor, { stopAt, seenCursors: new Set(seen), pages }, 5)).toEqual(expected);
  });
});

describe("planRecovery", () => {
  const stopAt = at("2026-12-02T10:00:00Z");
  const rows = [
    listed(9, "g-new", "push", "2026-12-02T11:50:00Z"),
    listed(8, "g-redelivered", "push", "2026-12-02T11:40:00Z"),
    listed(7, "g-label", "label", "2026-12-02T11:30:00Z"),
    listed(6, "g-recorded", "pull_request", "2026-12-02T11:20:00Z"),
    listed(5, "g-recorded", "pull_request", "2026-12-02T11:10:00Z"),
    listed(4, "g-comment", "issue_comment", "2026-12-02T11:05:00Z"),
    listed(3, "g-redelivered", "push", "2026-12-02T11:00:00Z"),
    listed(2, "g-old", "push", "2026-12-02T09:00:00Z"),
  ];
  it.each([
    [
      "missed GUIDs of handled events, one each (its first delivery), oldest first",
      100,
      { fetch: [3, 4, 9], unhandled: 1, recorded: 1, deferred: 0 },
    ],
    [
      "at most maxFetches, the oldest; the rest deferred",
      2,
      { fetch: [3, 4], unhandled: 1, recorded: 1, deferred: 1 },
    ],
    ["none allowed", 0, { fetch: [], unhandled: 1, recorded: 1, deferred: 3 }],
  ])("%s", (_, maxFetches, expected) => {
    const plan = planRecovery(rows, { stopAt, recorded: new Set(["g-recorded"]), maxFetches });
    expect({ ...plan, fetch: plan.fetch.map((row) => row.id) }).toEqual(expected);
  });

  it("orders deliveries made in the same second by id", () => {
    const same = [
      listed(12, "b", "push", "2026-12-02T11:00:00Z"),
      listed(11, "a", "push", "2026-12-02T11:00:00Z"),
    ];
    const plan = planRecovery(same, { stopAt, recorded: new Set(), maxFetches: 10 });
    expect(plan.fetch.map((row) => row.guid)).toEqual(["a", "b"]);
  });

  it("fetches only the check deliveries that are requests: the App's own check runs are not", () => {
    const checks = [
      { ...listed(21, "created", "check_run", "2026-12-02T11:00:00Z"), action: "created" },
      { ...listed(22, "completed", "check_run", "2026-12-02T11:00:01Z"), action: "completed" },
      { ...listed(23, "rerun", "check_run", "2026-12-02T11:00:02Z"), action: "rerequested" },
      { ...listed(24, "button", "check_run", "2026-12-02T11:00:03Z"), action: "requested_action" },
      { ...listed(25, "suite-new", "check_suite", "2026-12-02T11:00:04Z"), action: "requested" },
      { ...listed(26, "suite-rerun", "check_suite", "2026-12-02T11:00:05Z"), action: "rerequested" },
      { ...listed(27, "no-action", "check_run", "2026-12-02T11:00:06Z"), action: null },
      listed(28, "push", "push", "2026-12-02T11:00:07Z"),
    ];
    const plan = planRecovery(checks, { stopAt, recorded: new Set(), maxFetches: 10 });
    expect(plan.fetch.map((row) => row.guid)).toEqual(["rerun", "button", "suite-rerun", "push"]);
    expect(plan.unhandled).toBe(4);
  });
});

describe("newerAccepted", () => {
  const missed = listed(2, "g-missed", "push", "2026-12-02T11:00:00Z");
  const target = { repo: "o/r", ref: "refs/heads/main" };
  const main = { repo: "o/r", ref: "refs/heads/main", planned: true };
  it.each([
    ["a newer recorded push with runs for the same branch", "2026-12-02T11:10:00Z", main, true],
    ["an older one", "2026-12-02T10:50:00Z", main, false],
    ["a newer one that ran nothing", "2026-12-02T11:10:00Z", { ...main, planned: false }, false],
    ["a newer one for another branch", "2026-12-02T11:10:00Z", { ...main, ref: "refs/heads/other" }, false],
    ["a newer one in another repository", "2026-12-02T11:10:00Z", { ...main, repo: "o/other" }, false],
  ])("%s", (_, iso, recorded, expected) => {
    const other = listed(3, "g-other", "push", iso);
    expect(newerAccepted(missed, target, [other, missed], new Map([["g-other", recorded]]))).toBe(expected);
  });

  it("a redelivery of the missed GUID itself does not count", () => {
    const again = listed(3, "g-missed", "push", "2026-12-02T11:10:00Z");
    expect(newerAccepted(missed, target, [again, missed], new Map([["g-missed", main]]))).toBe(false);
  });
});
