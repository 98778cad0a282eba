import { describe, expect, it } from "vitest";
import { planAcceptance, supersedeWithinBatch } from "../../src/runs/plan-acceptance.ts";
import { delivery, pullRequestEvent, pushEvent, run } from "../queue/fixtures.ts";

const ids = () => {
  let n = 0;
  return () => `run-${++n}`;
};

describe("planAcceptance", () => {
  it("keeps the first of repeated delivery ids and gives runs fresh ids in arrival order", () => {
    const a = delivery(pushEvent({ deliveryId: "a" }), [run("test"), run("deploy", { needs: ["test"] })]);
    const b = delivery(pushEvent({ deliveryId: "b" }), [run("test")]);
    const plan = planAcceptance([a, b, a], ids());
    expect(plan.deliveries.map((row) => row.id)).toEqual(["a", "b"]);
    expect(plan.runs.map((r) => [r.id, r.deliveryId, r.pipeline])).toEqual([
      ["run-1", "a", "test"],
      ["run-2", "a", "deploy"],
      ["run-3", "b", "test"],
    ]);
    expect([...plan.firstIndex]).toEqual([
      ["a", 0],
      ["b", 1],
    ]);
  });

  it("creates no runs for an ignored delivery", () => {
    const ignored = {
      ...delivery(pushEvent(), [run("test")]),
      outcome: "ignored" as const,
      reason: "no rule",
    };
    expect(planAcceptance([ignored], ids()).runs).toEqual([]);
  });
});

describe("supersedeWithinBatch", () => {
  const push = (id: string, branch: string, pipelines: string[]) =>
    delivery(
      pushEvent({ deliveryId: id, branch }),
      pipelines.map((p) => run(p)),
    );
  it.each([
    {
      name: "different branches replace nothing",
      batch: [push("a", "x", ["t"]), push("b", "y", ["t"])],
      replaced: {},
    },
    {
      name: "each run is replaced by the next one of its branch and pipeline",
      batch: [push("a", "x", ["t"]), push("b", "x", ["t"]), push("c", "x", ["t"])],
      replaced: { "a/t": "b/t", "b/t": "c/t" },
    },
    {
      name: "other pipelines of the same branch are not replaced",
      batch: [push("a", "x", ["t", "lint"]), push("b", "x", ["t"])],
      replaced: { "a/t": "b/t" },
    },
    {
      name: "a pull request is keyed by number, not branch",
      batch: [
        delivery(pullRequestEvent({ deliveryId: "a", prNumber: 1 }), [run("t")]),
        delivery(pullRequestEvent({ deliveryId: "b", prNumber: 2 }), [run("t")]),
        delivery(pullRequestEvent({ deliveryId: "c", prNumber: 1 }), [run("t")]),
      ],
      replaced: { "a/t": "c/t" },
    },
  ])("$name", ({ batch, replaced }) => {
    const plan = planAcceptance(batch, ids());
    const result = supersedeWithinBatch(plan.runs);
    // Every replaced run, of any pipeline, as "delivery/pipeline" → its replacement.
    const name = (r: { deliveryId: string; pipeline: string }) => `${r.deliveryId}/${r.pipeline}`;
    const byRun = Object.fromEntries(
      plan.runs.filter((r) => result.has(r.id)).map((r) => [name(r), name(result.get(r.id)!)]),
    );
    expect(byRun).toEqual(replaced);
  });
});
