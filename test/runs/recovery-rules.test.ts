import { describe, expect, it } from "vitest";
import {
  type DeadWorkerContext,
  deadWorkerDetail,
  RESTART_DETAIL,
  type WorkerRow,
} from "../../src/runs/dead-workers.ts";
import { requeuedAfterCrash } from "../../src/runs/requeue-policy.ts";
import { supersedeKey } from "../../src/runs/supersede-key.ts";
import { pullRequestEvent, pushEvent } from "../queue/fixtures.ts";

describe("requeuedAfterCrash", () => {
  it.each([
    { environment: null, requeued: true },
    { environment: "production", requeued: false },
  ])("environment $environment → re-queued $requeued", ({ environment, requeued }) => {
    expect(requeuedAfterCrash({ environment })).toBe(requeued);
  });
});

describe("deadWorkerDetail", () => {
  const row = (overrides: Partial<WorkerRow> = {}): WorkerRow => ({
    id: "w-other",
    host: "here",
    pid: 100,
    stopped: false,
    stale: false,
    ...overrides,
  });
  const context = (overrides: Partial<DeadWorkerContext> = {}): DeadWorkerContext => ({
    self: "w-self",
    host: "here",
    startingUp: false,
    embedded: false,
    isAlive: () => true,
    ...overrides,
  });
  it.each([
    {
      name: "our own runs at start-up",
      worker: "w-self",
      row: undefined,
      context: context({ startingUp: true }),
      detail: RESTART_DETAIL,
    },
    { name: "our own runs while alive", worker: "w-self", row: undefined, context: context(), detail: null },
    {
      name: "an unknown worker",
      worker: "w-other",
      row: undefined,
      context: context(),
      detail: RESTART_DETAIL,
    },
    {
      name: "a stopped worker",
      worker: "w-other",
      row: row({ stopped: true }),
      context: context(),
      detail: RESTART_DETAIL,
    },
    {
      name: "any other worker on embedded storage",
      worker: "w-other",
      row: row(),
      context: context({ embedded: true }),
      detail: RESTART_DETAIL,
    },
    {
      name: "a dead process on this host",
      worker: "w-other",
      row: row(),
      context: context({ isAlive: () => false }),
      detail: RESTART_DETAIL,
    },
    {
      name: "a stale worker elsewhere",
      worker: "w-other",
      row: row({ host: "there", stale: true }),
      context: context({ isAlive: () => false }),
      detail: "Worker w-other stopped responding",
    },
    { name: "a live worker", worker: "w-other", row: row(), context: context(), detail: null },
  ])("$name", ({ worker, row, context, detail }) => {
    expect(deadWorkerDetail(worker, row, context)).toBe(detail);
  });
});

describe("supersedeKey", () => {
  it.each([
    { event: pullRequestEvent({ prNumber: 3 }), key: "pr:3" },
    { event: pushEvent({ branch: "main" }), key: "branch:main" },
    { event: pushEvent({ branch: undefined, tag: "v1", ref: "refs/tags/v1" }), key: "tag:v1" },
    { event: pushEvent({ branch: undefined, tag: undefined, ref: "refs/notes/x" }), key: "ref:refs/notes/x" },
  ])("$key", ({ event, key }) => {
    expect(supersedeKey(event)).toBe(key);
  });
});
