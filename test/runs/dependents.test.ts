import { describe, expect, it } from "vitest";
import { type ChainRun, decideDependents } from "../../src/runs/dependents.ts";

const r = (
  id: string,
  pipeline: string,
  state: ChainRun["state"],
  needs: string[] = [],
  enqueued = false,
  seq = 0,
) => ({
  id,
  pipeline,
  needs,
  state,
  enqueued,
  seq,
});

describe("decideDependents", () => {
  it("enqueues a run whose needs all passed and waits while one is unfinished", () => {
    expect(decideDependents([r("1", "test", "passed"), r("2", "deploy", "queued", ["test"])])).toEqual({
      enqueue: ["2"],
      skip: [],
    });
    expect(decideDependents([r("1", "test", "running"), r("2", "deploy", "queued", ["test"])])).toEqual({
      enqueue: [],
      skip: [],
    });
  });

  it("skips down the chain when a predecessor did not pass", () => {
    const decision = decideDependents([
      r("1", "test", "failed", [], true, 1),
      r("2", "build", "queued", ["test"], false, 2),
      r("3", "deploy", "queued", ["build"], false, 3),
    ]);
    expect(decision.skip).toEqual([
      { id: "2", detail: "test failed" },
      { id: "3", detail: "build failed" },
    ]);
  });

  it("waits for a re-queued copy instead of its interrupted original", () => {
    const decision = decideDependents([
      r("1", "test", "interrupted", [], true, 1),
      r("2", "deploy", "queued", ["test"], false, 2),
      r("3", "test", "queued", [], true, 3),
    ]);
    expect(decision).toEqual({ enqueue: [], skip: [] });
  });
});
