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
      wait: [],
      skip: [],
    });
    expect(decideDependents([r("1", "test", "running"), r("2", "deploy", "queued", ["test"])])).toEqual({
      enqueue: [],
      wait: [],
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
    expect(decision).toEqual({ enqueue: [], wait: [], skip: [] });
  });

  const m = (id: string, pipeline: string, state: ChainRun["state"], needs: string[] = [], seq = 0) => ({
    ...r(id, pipeline, state, needs, false, seq),
    manual: true,
  });

  it.each<[string, ChainRun[], { enqueue: string[]; wait: string[]; skip: string[] }]>([
    [
      "a manual run waits once its needs passed",
      [r("1", "test", "passed", [], true, 1), m("2", "production", "queued", ["test"], 2)],
      { enqueue: [], wait: ["2"], skip: [] },
    ],
    [
      "a manual run stays queued while its needs run",
      [r("1", "test", "running", [], true, 1), m("2", "production", "queued", ["test"], 2)],
      { enqueue: [], wait: [], skip: [] },
    ],
    [
      "a manual run is skipped when its needs failed",
      [r("1", "test", "failed", [], true, 1), m("2", "production", "queued", ["test"], 2)],
      { enqueue: [], wait: [], skip: ["2"] },
    ],
    [
      "a waiting run is not decided again",
      [r("1", "test", "passed", [], true, 1), m("2", "production", "waiting", ["test"], 2)],
      { enqueue: [], wait: [], skip: [] },
    ],
    [
      "what comes after a waiting manual run keeps waiting for it",
      [
        r("1", "test", "passed", [], true, 1),
        m("2", "production", "queued", ["test"], 2),
        r("3", "smoke", "queued", ["production"], false, 3),
      ],
      { enqueue: [], wait: ["2"], skip: [] },
    ],
    [
      "after the manual run passed, what comes next is queued",
      [
        r("1", "test", "passed", [], true, 1),
        m("2", "production", "passed", ["test"], 2),
        r("3", "smoke", "queued", ["production"], false, 3),
      ],
      { enqueue: ["3"], wait: [], skip: [] },
    ],
  ])("%s", (_, runs, expected) => {
    const decision = decideDependents(runs);
    expect({ ...decision, skip: decision.skip.map((s) => s.id) }).toEqual(expected);
  });
});
