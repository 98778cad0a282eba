/** Small builders for runs and events used by the report tests. */
import type { PullRequestEvent, PushEvent } from "../../src/events/deploy-event.ts";
import type { RunRecord, StepRecord } from "../../src/runs/run.ts";

export const SHA = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
export const T0 = new Date("2025-01-01T12:00:00.000Z");
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

export function pushEvent(overrides: Partial<PushEvent> = {}): PushEvent {
  return {
    kind: "push",
    action: "push",
    deliveryId: "delivery-1",
    repo: {
      owner: "acme",
      name: "app",
      fullName: "acme/app",
      cloneUrl: "https://github.com/acme/app.git",
      private: false,
    },
    installationId: 42,
    sha: SHA,
    ref: "refs/heads/main",
    changedFiles: { known: true, files: [] },
    sender: "alice",
    branch: "main",
    tag: undefined,
    before: "0".repeat(40),
    fork: false,
    ...overrides,
  };
}

export function prEvent(overrides: Partial<PullRequestEvent> = {}): PullRequestEvent {
  return {
    kind: "pull_request",
    action: "opened",
    deliveryId: "delivery-1",
    repo: {
      owner: "acme",
      name: "app",
      fullName: "acme/app",
      cloneUrl: "https://github.com/acme/app.git",
      private: false,
    },
    installationId: 42,
    sha: SHA,
    ref: "refs/pull/7/head",
    changedFiles: { known: false, reason: "pull request" },
    sender: "alice",
    prNumber: 7,
    branch: "feature",
    tag: undefined,
    baseBranch: "main",
    title: "Add feature",
    draft: false,
    fork: false,
    headRepoFullName: "acme/app",
    labels: [],
    ...overrides,
  };
}

export function step(index: number, name: string, overrides: Partial<StepRecord> = {}): StepRecord {
  return { index, name, state: "pending", exitCode: null, startedAt: null, finishedAt: null, ...overrides };
}

export function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: "run-test",
    deliveryId: "delivery-1",
    pipeline: "test",
    environment: null,
    needs: [],
    state: "queued",
    detail: null,
    event: pushEvent(),
    steps: [],
    createdAt: T0,
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

/** The three steps of the "test" pipeline, with the given states. */
export function testSteps(states: readonly StepRecord["state"][]): StepRecord[] {
  const names = ["Install", "Unit tests", "Lint"];
  return names.map((name, i) => {
    const state = states[i] ?? "pending";
    const started = state === "pending" ? null : at(i * 20);
    const finished = state === "pending" || state === "running" ? null : at(i * 20 + 20);
    const exitCode = state === "passed" ? 0 : state === "failed" ? 1 : null;
    return step(i, name, { state, startedAt: started, finishedAt: finished, exitCode });
  });
}
