/** Shared builders for store and queue tests. */
import type { DeployEvent, PullRequestEvent, PushEvent } from "../../src/events/deploy-event.ts";
import type { AcceptDeliveryInput, AcceptRunInput } from "../../src/runs/accept-input.ts";

let counter = 0;

export function pushEvent(overrides: Partial<PushEvent> = {}): PushEvent {
  counter++;
  const sha = overrides.sha ?? `${counter.toString(16).padStart(7, "0")}${"a".repeat(33)}`;
  return {
    kind: "push",
    action: "push",
    deliveryId: overrides.deliveryId ?? `delivery-${counter}`,
    repo: {
      owner: "acme",
      name: "app",
      fullName: "acme/app",
      cloneUrl: "https://github.com/acme/app.git",
      private: false,
    },
    installationId: 1,
    sha,
    ref: "refs/heads/main",
    changedFiles: { known: true, files: [] },
    sender: "octocat",
    branch: "main",
    tag: undefined,
    before: "0".repeat(40),
    fork: false,
    ...overrides,
  };
}

export function pullRequestEvent(overrides: Partial<PullRequestEvent> = {}): PullRequestEvent {
  counter++;
  return {
    kind: "pull_request",
    action: "synchronize",
    deliveryId: `delivery-${counter}`,
    repo: {
      owner: "acme",
      name: "app",
      fullName: "acme/app",
      cloneUrl: "https://github.com/acme/app.git",
      private: false,
    },
    installationId: 1,
    sha: `${counter.toString(16).padStart(7, "0")}${"b".repeat(33)}`,
    ref: "refs/pull/7/head",
    changedFiles: { known: false, reason: "not in payload" },
    sender: "stranger",
    prNumber: 7,
    branch: "feature",
    tag: undefined,
    baseBranch: "main",
    title: "A change",
    draft: false,
    fork: true,
    headRepoFullName: "stranger/app",
    labels: [],
    ...overrides,
  };
}

export function run(pipeline: string, overrides: Partial<AcceptRunInput> = {}): AcceptRunInput {
  return {
    pipeline,
    needs: [],
    environment: undefined,
    stepNames: ["Step one"],
    initialState: "queued",
    ...overrides,
  };
}

export function delivery(event: DeployEvent, runs: readonly AcceptRunInput[]): AcceptDeliveryInput {
  return {
    deliveryId: event.deliveryId,
    eventName: event.kind,
    event,
    repo: event.repo.fullName,
    sha: event.sha,
    outcome: "planned",
    reason: null,
    runs,
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
