import { describe, expect, it } from "vitest";
import { cronProblem } from "../../src/config/cron-expression.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import {
  type ActiveRun,
  decideTick,
  nextTicks,
  scheduledTicks,
  tickAt,
  tickDeliveryId,
} from "../../src/runs/schedule-ticks.ts";

describe("tickAt: the tick a fired job stands for", () => {
  it.each([
    ["*/15 * * * *", "2026-12-02T16:15:00.000Z", "2026-12-02T16:15:00.000Z"], // exactly on the tick
    ["*/15 * * * *", "2026-12-02T16:15:41.250Z", "2026-12-02T16:15:00.000Z"], // filed late in the minute
    ["*/15 * * * *", "2026-12-02T16:29:59.999Z", "2026-12-02T16:15:00.000Z"],
    ["* * * * *", "2026-12-02T16:15:00.001Z", "2026-12-02T16:15:00.000Z"],
    ["0 3 * * *", "2026-12-02T16:00:00.000Z", "2026-12-02T03:00:00.000Z"], // a catch-up hours later
    ["0 0 1 1 *", "2026-12-02T16:00:00.000Z", "2026-01-01T00:00:00.000Z"],
  ])("%s fired at %s → %s", (cron, firedAt, tick) => {
    expect(tickAt(cron, new Date(firedAt)).toISOString()).toBe(tick);
  });
});

describe("tickDeliveryId", () => {
  it("is the same for the same tick, whichever worker or catch-up fired it", () => {
    const cron = "*/15 * * * *";
    const a = tickDeliveryId("reconcile", "acme/infra", tickAt(cron, new Date("2026-12-02T16:15:02Z")));
    const b = tickDeliveryId("reconcile", "Acme/Infra", tickAt(cron, new Date("2026-12-02T16:15:40Z")));
    expect(a).toBe("schedule:reconcile:acme/infra:2026-12-02T16:15:00.000Z");
    expect(b).toBe(a);
  });
  it.each([
    ["another tick", "reconcile", "acme/infra", "2026-12-02T16:30:00Z"],
    ["another rule", "drift", "acme/infra", "2026-12-02T16:15:00Z"],
    ["another repository", "reconcile", "acme/web", "2026-12-02T16:15:00Z"],
  ])("differs for %s", (_what, rule, repo, at) => {
    expect(tickDeliveryId(rule, repo, new Date(at))).not.toBe(
      tickDeliveryId("reconcile", "acme/infra", new Date("2026-12-02T16:15:00Z")),
    );
  });
});

describe("decideTick: no pile-up", () => {
  const run = (pipeline: string, state: ActiveRun["state"]): ActiveRun => ({
    id: `id-${pipeline}`,
    pipeline,
    state,
  });
  it.each<[string, ActiveRun[], ReturnType<typeof decideTick>]>([
    ["nothing active", [], { run: true }],
    [
      "the pipeline queued",
      [run("sync", "queued")],
      { run: false, reason: "tick skipped: sync is still queued" },
    ],
    [
      "the pipeline running",
      [run("sync", "running")],
      { run: false, reason: "tick skipped: sync is still running" },
    ],
    [
      "a later pipeline of the chain running",
      [run("verify", "running")],
      { run: false, reason: "tick skipped: verify is still running" },
    ],
    ["another pipeline running", [run("test", "running")], { run: true }],
    ["the pipeline awaiting a fork approval", [run("sync", "awaiting_approval")], { run: true }],
    [
      "two of them",
      [run("sync", "running"), run("verify", "queued"), run("sync", "running")],
      { run: false, reason: "tick skipped: sync is still running, verify is still queued" },
    ],
  ])("%s", (_name, active, decision) => {
    expect(decideTick(["sync", "verify"], active)).toEqual(decision);
  });
});

describe("cronProblem", () => {
  it.each([
    ["*/15 * * * *", undefined],
    ["0 3 * * 1-5", undefined],
    ["  5 4 * * sun  ", undefined],
    [
      "61 * * * *",
      'invalid cron expression "61 * * * *": Constraint error, got value 61 expected range 0-59',
    ],
    [
      "@daily",
      'invalid cron expression "@daily": use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"',
    ],
    [
      "",
      'invalid cron expression "": use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"',
    ],
    [
      "* * * * * *",
      'invalid cron expression "* * * * * *": use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"',
    ],
  ])("%j → %s", (cron, problem) => {
    expect(cronProblem(cron)).toBe(problem);
  });
});

describe("nextTicks", () => {
  it("lists the next ticks strictly after now, in UTC", () => {
    expect(
      nextTicks("*/15 * * * *", new Date("2026-12-02T16:15:00Z"), 3).map((d) => d.toISOString()),
    ).toEqual(["2026-12-02T16:30:00.000Z", "2026-12-02T16:45:00.000Z", "2026-12-02T17:00:00.000Z"]);
  });
});

describe("scheduledTicks", () => {
  it("is one schedule per rule × repository × cron entry, duplicates once", () => {
    const parsed = parseConfig(
      `version: 1
pipelines:
  sync: { steps: [{ name: a, run: a }] }
rules:
  - name: reconcile
    repos: [acme/infra, acme/web, Acme/Infra]
    on:
      push:
      schedule:
        - cron: '*/15 * * * *'
        - cron: '0 3 * * *'
          branch: release
    run: [sync]
  - name: on push only
    on: { push: }
    run: [sync]
`,
      "f",
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(scheduledTicks(parsed.config)).toEqual([
      { rule: "reconcile", repo: "acme/infra", branch: undefined, cron: "*/15 * * * *" },
      { rule: "reconcile", repo: "acme/web", branch: undefined, cron: "*/15 * * * *" },
      { rule: "reconcile", repo: "acme/infra", branch: "release", cron: "0 3 * * *" },
      { rule: "reconcile", repo: "acme/web", branch: "release", cron: "0 3 * * *" },
    ]);
  });
});
