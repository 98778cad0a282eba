import { describe, expect, it } from "vitest";
import { deploymentStateOf, planDeploymentSync } from "../../src/deploy/deployment-state.ts";
import type { RunState } from "../../src/runs/run.ts";
import { T0 } from "../report/fixtures.ts";

describe("deploymentStateOf", () => {
  it.each<[RunState, string | null]>([
    ["awaiting_approval", null],
    ["queued", "queued"],
    ["running", "in_progress"],
    ["passed", "success"],
    ["failed", "failure"],
    ["timed_out", "failure"],
    ["cancelled", "error"],
    ["superseded", "error"],
    ["interrupted", "error"],
    ["skipped", "error"],
    ["error", "error"],
  ])("%s → %s", (state, expected) => {
    expect(deploymentStateOf({ state })).toBe(expected);
  });
});

describe("planDeploymentSync", () => {
  const none = null;
  const created = (lastStatus: string | null) => ({ deploymentId: 7, lastStatus });
  it.each([
    [
      "a queued run without a Deployment: create, post queued",
      { state: "queued", startedAt: null },
      none,
      true,
      "queued ",
    ],
    ["awaiting approval: nothing yet", { state: "awaiting_approval", startedAt: null }, none, false, null],
    ["queued already posted: nothing", { state: "queued", startedAt: null }, created("queued "), false, null],
    [
      "running after queued: in_progress",
      { state: "running", startedAt: T0 },
      created("queued "),
      false,
      "in_progress ",
    ],
    [
      "a reported URL is a new status",
      { state: "running", startedAt: T0, environmentUrl: "https://x/" },
      created("in_progress "),
      false,
      "in_progress https://x/",
    ],
    [
      "passed with its URL",
      { state: "passed", startedAt: T0, environmentUrl: "https://x/" },
      created("in_progress https://x/"),
      false,
      "success https://x/",
    ],
    ["failed", { state: "failed", startedAt: T0 }, created("in_progress "), false, "failure "],
    [
      "superseded while queued, Deployment exists: error",
      { state: "superseded", startedAt: null },
      created("queued "),
      false,
      "error ",
    ],
    [
      "superseded before any Deployment: none is made",
      { state: "superseded", startedAt: null },
      none,
      false,
      null,
    ],
    ["skipped before any Deployment: none is made", { state: "skipped", startedAt: null }, none, false, null],
    [
      "skipped after its Deployment was made: error",
      { state: "skipped", startedAt: null },
      created("queued "),
      false,
      "error ",
    ],
    [
      "passed but never created (coalesced): create, post success",
      { state: "passed", startedAt: T0 },
      none,
      true,
      "success ",
    ],
    [
      "a create whose id was lost: create again (after looking)",
      { state: "running", startedAt: T0 },
      { deploymentId: null, lastStatus: null },
      true,
      "in_progress ",
    ],
  ] as const)("%s", (_what, run, known, create, key) => {
    const plan = planDeploymentSync(run, known);
    expect(plan.create).toBe(create);
    expect(plan.status?.key ?? null).toBe(key);
  });
});
