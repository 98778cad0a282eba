import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import { type Ignored, ignored as ignoredBecause } from "../../src/events/deploy-event.ts";
import type { AcceptInput } from "../../src/flow/accept-delivery.ts";
import { runScheduleTick, type TickDeps } from "../../src/flow/run-schedule-tick.ts";
import type { BranchHead } from "../../src/github/resolve-branch-head.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { ActiveRun, ScheduledTick } from "../../src/runs/schedule-ticks.ts";

const CONFIG = `
version: 1
pipelines:
  diff: { steps: [{ name: Diff, run: "true" }] }
  sync: { environment: production, steps: [{ name: Apply, run: "true" }] }
rules:
  - name: reconcile
    repos: [acme/infra]
    on:
      schedule:
        - cron: '*/15 * * * *'
          branch: main
    run: [diff, sync]
  - name: deploy main
    on: { push: { branches: [main] } }
    run: [sync]
`;
const config = (() => {
  const result = parseConfig(CONFIG, "f");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
})();
const SHA = "a".repeat(40);
const TICK: ScheduledTick = { rule: "reconcile", repo: "acme/infra", branch: "main", cron: "*/15 * * * *" };
const FIRED = new Date("2026-12-02T16:15:07Z");
const HEAD: BranchHead = {
  installationId: 42,
  repo: {
    owner: "acme",
    name: "infra",
    fullName: "acme/infra",
    cloneUrl: "https://github.com/acme/infra.git",
    private: true,
  },
  branch: "main",
  sha: SHA,
};

function harness(options: { active?: ActiveRun[]; head?: BranchHead | Ignored } = {}) {
  const recorded: AcceptInput[] = [];
  const ignored: AcceptInput[] = [];
  const heads: (string | undefined)[] = [];
  const outcomes: string[] = [];
  const deps: TickDeps = {
    config: () => config,
    record: async (input) => {
      const duplicate = recorded.some((earlier) => earlier.deliveryId === input.deliveryId);
      if (!duplicate) recorded.push(input);
      const runs = duplicate
        ? []
        : input.runs.map((run, i) => ({ id: `run-${i}`, pipeline: run.pipeline }) as RunRecord);
      return { duplicate, runs, superseded: [], skipped: [] };
    },
    recordIgnored: (input) => ignored.push(input),
    report: () => {},
    activeRuns: async (_repo, pipelines) =>
      (options.active ?? []).filter((run) => pipelines.includes(run.pipeline)),
    branchHead: async (_repo, branch) => {
      heads.push(branch);
      return options.head ?? HEAD;
    },
    logger: { info: () => {}, warn: () => {} },
    metrics: { delivery: (_event, outcome) => outcomes.push(outcome) },
  };
  return { deps, recorded, ignored, heads, outcomes };
}

describe("runScheduleTick", () => {
  it("runs the rule's pipelines at the branch head, as a schedule delivery with a deterministic id", async () => {
    const h = harness();
    const result = await runScheduleTick(h.deps, TICK, FIRED);
    expect(result.outcome).toBe("accepted");
    expect(h.heads).toEqual(["main"]);
    expect(h.recorded).toHaveLength(1);
    const input = h.recorded[0] as AcceptInput;
    expect(input).toMatchObject({
      deliveryId: "schedule:reconcile:acme/infra:2026-12-02T16:15:00.000Z",
      eventName: "schedule",
      repo: "acme/infra",
      sha: SHA,
      outcome: "planned",
    });
    expect(input.event).toMatchObject({
      kind: "schedule",
      action: "schedule",
      rule: "reconcile",
      ref: "refs/heads/main",
      branch: "main",
      installationId: 42,
      tick: "2026-12-02T16:15:00.000Z",
    });
    expect(input.runs.map((run) => [run.pipeline, run.needs, run.initialState])).toEqual([
      ["diff", [], "queued"],
      ["sync", ["diff"], "queued"],
    ]);
    expect(h.outcomes).toEqual(["accepted"]);
  });

  it("runs a tick once when two workers fire it", async () => {
    const h = harness();
    await runScheduleTick(h.deps, TICK, FIRED);
    const second = await runScheduleTick(h.deps, TICK, new Date("2026-12-02T16:15:40Z"));
    expect(second.outcome).toBe("duplicate");
    expect(h.recorded).toHaveLength(1);
  });

  it("skips a tick while one of its pipelines is still running, without asking GitHub", async () => {
    const h = harness({ active: [{ id: "r1", pipeline: "sync", state: "running" }] });
    const result = await runScheduleTick(h.deps, TICK, FIRED);
    expect(result).toEqual({ outcome: "ignored", reason: "tick skipped: sync is still running" });
    expect(h.heads).toEqual([]);
    expect(h.recorded).toEqual([]);
    expect(h.ignored.map((i) => [i.deliveryId, i.eventName, i.reason])).toEqual([
      [
        "schedule:reconcile:acme/infra:2026-12-02T16:15:00.000Z",
        "schedule",
        "tick skipped: sync is still running",
      ],
    ]);
  });

  it("ignores a schedule no longer in the config (another worker's older config)", async () => {
    const h = harness();
    for (const stale of [
      { ...TICK, rule: "gone" },
      { ...TICK, cron: "0 * * * *" },
      { ...TICK, repo: "acme/other" },
      { ...TICK, branch: undefined },
    ]) {
      const result = await runScheduleTick(h.deps, stale, FIRED);
      expect(result).toEqual({ outcome: "ignored", reason: "the schedule is no longer in the config" });
    }
    expect(h.heads).toEqual([]);
  });

  it("ignores a tick for a repository the App is not installed on", async () => {
    const h = harness({ head: ignoredBecause("the App is not installed on acme/infra") });
    const result = await runScheduleTick(h.deps, TICK, FIRED);
    expect(result).toEqual({ outcome: "ignored", reason: "the App is not installed on acme/infra" });
    expect(h.recorded).toEqual([]);
  });
});
