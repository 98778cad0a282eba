import { describe, expect, it } from "vitest";
import { renderStatus, statusContext } from "../../src/report/render-status.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { at, run, step, testSteps } from "./fixtures.ts";

const now = at(600);
const passedTest = run({ id: "t", pipeline: "test", state: "passed", startedAt: at(0), finishedAt: at(72) });
const failedTest = run({ id: "t", pipeline: "test", state: "failed", detail: "Unit tests exited with 1" });

describe("renderStatus", () => {
  const cases: [string, RunRecord, readonly RunRecord[], string, string][] = [
    ["queued", run(), [], "pending", "Queued"],
    [
      "queued behind a need",
      run({ pipeline: "deploy", needs: ["test"] }),
      [run()],
      "pending",
      "Waiting for test",
    ],
    ["queued, need passed", run({ pipeline: "deploy", needs: ["test"] }), [passedTest], "pending", "Queued"],
    [
      "running",
      run({ state: "running", startedAt: at(0), steps: testSteps(["passed", "running"]) }),
      [],
      "pending",
      "Running: Unit tests (2/3)",
    ],
    ["running, before the first step", run({ state: "running", startedAt: at(0) }), [], "pending", "Running"],
    ["passed", passedTest, [], "success", "Passed in 1m 12s"],
    ["failed with detail", failedTest, [], "failure", "Failed: Unit tests exited with 1"],
    [
      "failed without detail",
      run({ state: "failed", steps: testSteps(["passed", "failed"]) }),
      [],
      "failure",
      "Failed: Unit tests exited with 1",
    ],
    [
      "timed out with detail",
      run({ state: "timed_out", detail: "Deploy after 10m" }),
      [],
      "failure",
      "Timed out: Deploy after 10m",
    ],
    [
      "timed out, detail already prefixed",
      run({ state: "timed_out", detail: "Timed out: Deploy after 10m" }),
      [],
      "failure",
      "Timed out: Deploy after 10m",
    ],
    [
      "timed out without detail",
      run({
        state: "timed_out",
        steps: [step(0, "Deploy", { state: "timed_out", startedAt: at(0), finishedAt: at(600) })],
      }),
      [],
      "failure",
      "Timed out: Deploy after 10m",
    ],
    [
      "skipped with detail",
      run({ state: "skipped", detail: "test failed" }),
      [],
      "error",
      "Skipped: test failed",
    ],
    [
      "skipped without detail",
      run({ pipeline: "deploy", state: "skipped", needs: ["test"] }),
      [failedTest],
      "error",
      "Skipped: test failed",
    ],
    [
      "superseded by a full SHA",
      run({ state: "superseded", detail: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b" }),
      [],
      "error",
      "Superseded by 1a2b3c4",
    ],
    [
      "superseded by a short SHA",
      run({ state: "superseded", detail: "1a2b3c4" }),
      [],
      "error",
      "Superseded by 1a2b3c4",
    ],
    ["superseded, no detail", run({ state: "superseded" }), [], "error", "Superseded by a newer commit"],
    ["interrupted", run({ state: "interrupted" }), [], "error", "Interrupted by a restart"],
    ["cancelled", run({ state: "cancelled" }), [], "error", "Cancelled"],
    [
      "cancelled with detail",
      run({ state: "cancelled", detail: "by alice" }),
      [],
      "error",
      "Cancelled: by alice",
    ],
    [
      "checkout failed",
      run({ state: "error", detail: "Checkout failed: remote: Repository not found." }),
      [],
      "error",
      "Checkout failed: remote: Repository not found.",
    ],
    ["error, no detail", run({ state: "error" }), [], "error", "The bot could not run this pipeline"],
    [
      "awaiting approval",
      run({ state: "awaiting_approval" }),
      [],
      "error",
      "Awaiting approval: a maintainer must approve this fork's commit",
    ],
  ];

  it.each(cases)("%s", (_name, subject, others, state, description) => {
    expect(renderStatus(subject, [subject, ...others], now)).toEqual({ state, description });
  });

  it("keeps descriptions on one line", () => {
    const subject = run({ state: "failed", detail: "Unit\ntests\r\n exited\twith 1" });
    expect(renderStatus(subject, [subject], now).description).toBe("Failed: Unit tests exited with 1");
  });

  it("cuts at 140 characters with an ellipsis", () => {
    const subject = run({ state: "failed", detail: "x".repeat(300) });
    const { description } = renderStatus(subject, [subject], now);
    expect(description).toBe(`Failed: ${"x".repeat(131)}…`);
    expect(description.length).toBe(140);
  });

  it("never cuts an astral character in half", () => {
    // "Failed: " is 8 code units; each 🚀 is 2: the cut falls in the middle of a rocket.
    const subject = run({ state: "failed", detail: "🚀".repeat(100) });
    const { description } = renderStatus(subject, [subject], now);
    expect(description).toBe(`Failed: ${"🚀".repeat(65)}…`);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(description.isWellFormed()).toBe(true);
  });

  it("keeps an emoji with its modifiers whole", () => {
    const family = "👩‍👩‍👧‍👦"; // 11 code units
    const subject = run({ state: "failed", detail: `${"a".repeat(125)}${family}` });
    expect(renderStatus(subject, [subject], now).description).toBe(`Failed: ${"a".repeat(125)}…`);
  });
});

describe("statusContext", () => {
  it("joins prefix and pipeline", () => {
    expect(statusContext("deploy-bot", "deploy-production")).toBe("deploy-bot/deploy-production");
  });

  it("stays within 255 characters", () => {
    expect(statusContext("deploy-bot", "p".repeat(300))).toBe(`deploy-bot/${"p".repeat(243)}…`);
  });
});
