import { describe, expect, it } from "vitest";
import { type CheckRunWrite, planCheckRunWrite } from "../../src/report/plan-check-run-write.ts";
import type { CheckRunStatus } from "../../src/report/render-check-run.ts";
import type { SentCheckRun } from "../../src/store/sent-check-runs.ts";

const sent = (overrides: Partial<SentCheckRun>): SentCheckRun => ({
  checkRunId: 11,
  createStarted: false,
  completed: false,
  replacedCheckRunId: null,
  bodySha256: "same",
  ...overrides,
});

describe("planCheckRunWrite", () => {
  it.each<[string, SentCheckRun | undefined, CheckRunStatus, string, CheckRunWrite]>([
    ["never reported", undefined, "queued", "x", { kind: "create", replaces: null }],
    [
      "a create marked, its answer lost",
      sent({ checkRunId: null, createStarted: true }),
      "in_progress",
      "x",
      { kind: "find-or-create", replaces: null },
    ],
    [
      "a lost create of a replacement",
      sent({ checkRunId: null, createStarted: true, replacedCheckRunId: 11 }),
      "queued",
      "x",
      { kind: "find-or-create", replaces: 11 },
    ],
    ["unchanged", sent({}), "in_progress", "same", { kind: "none" }],
    ["changed", sent({}), "in_progress", "other", { kind: "update", checkRunId: 11 }],
    [
      "completed, now changed but still completed",
      sent({ completed: true }),
      "completed",
      "other",
      {
        kind: "update",
        checkRunId: 11,
      },
    ],
    ["completed and unchanged", sent({ completed: true }), "completed", "same", { kind: "none" }],
    [
      "approved: completed, now queued",
      sent({ completed: true }),
      "queued",
      "other",
      {
        kind: "create",
        replaces: 11,
      },
    ],
    [
      "manual deploy started: completed, now in progress",
      sent({ completed: true }),
      "in_progress",
      "x",
      {
        kind: "create",
        replaces: 11,
      },
    ],
  ])("%s", (_, known, status, bodySha256, write) => {
    expect(planCheckRunWrite(known, { status, bodySha256 })).toEqual(write);
  });
});
