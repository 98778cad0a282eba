import { describe, expect, it } from "vitest";
import { createMetrics, eventLabel } from "../../src/observe/metrics.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { parseScrape } from "../helpers/scrape.ts";

describe("eventLabel", () => {
  it.each([
    ["push", "push"],
    ["pull_request", "pull_request"],
    ["issue_comment", "issue_comment"],
    ["schedule", "schedule"],
    ["star", "other"],
    ["x".repeat(500), "other"],
    ["", "unknown"],
    [undefined, "unknown"],
  ])("%s → %s", (event, label) => {
    expect(eventLabel(event)).toBe(label);
  });
});

const run = (id: string, state: RunRecord["state"], seconds: number | null): RunRecord =>
  ({
    id,
    pipeline: "test",
    state,
    startedAt: seconds === null ? null : new Date(0),
    finishedAt: seconds === null ? null : new Date(seconds * 1000),
  }) as RunRecord;

describe("createMetrics", () => {
  it("counts a run once, when it first reaches a final state, and observes its duration", async () => {
    const metrics = createMetrics({ queuedRuns: async () => 7 }, { defaults: false });
    metrics.runChanged(run("a", "running", null));
    metrics.runChanged(run("a", "passed", 3));
    metrics.runChanged(run("a", "passed", 3)); // reported again (e.g. a comment update)
    metrics.runChanged(run("b", "skipped", null)); // never started: counted, no duration
    const scrape = parseScrape(await metrics.registry.metrics());
    expect(scrape.value("deploybot_runs_finished_total", { pipeline: "test", state: "passed" })).toBe(1);
    expect(scrape.value("deploybot_runs_finished_total", { pipeline: "test", state: "skipped" })).toBe(1);
    expect(scrape.labelSets("deploybot_runs_finished_total")).toHaveLength(2);
    expect(scrape.histogramCount("deploybot_run_duration_seconds", { pipeline: "test" })).toBe(1);
    expect(scrape.value("deploybot_runs_queued")).toBe(7);
  });

  it("labels GitHub requests by status", async () => {
    const metrics = createMetrics({ queuedRuns: async () => 0 }, { defaults: false });
    metrics.githubRequest(201);
    metrics.githubRequest(201);
    metrics.githubRequest("network");
    const scrape = parseScrape(await metrics.registry.metrics());
    expect(scrape.value("deploybot_github_requests_total", { status: "201" })).toBe(2);
    expect(scrape.value("deploybot_github_requests_total", { status: "network" })).toBe(1);
  });
});
