import { describe, expect, it } from "vitest";
import type { NotificationConfig } from "../../src/config/schema.ts";
import { matchNotifications, notificationOutcome } from "../../src/notify/match-notification.ts";
import type { RunState } from "../../src/runs/run.ts";
import { prEvent, pushEvent, run } from "../report/fixtures.ts";

const notification = (overrides: Partial<NotificationConfig>): NotificationConfig => ({
  name: "n",
  slack: "SLACK_URL",
  on: ["failed", "error"],
  ...overrides,
});

describe("notificationOutcome", () => {
  it.each<[RunState, string | undefined]>([
    ["running", "started"],
    ["passed", "succeeded"],
    ["failed", "failed"],
    ["timed_out", "failed"],
    ["error", "error"],
    ["cancelled", "error"],
    ["interrupted", "error"],
    ["queued", undefined],
    ["awaiting_approval", undefined],
    ["superseded", undefined],
    ["skipped", undefined],
  ])("%s → %s", (state, outcome) => {
    expect(notificationOutcome(state)).toBe(outcome);
  });
});

describe("matchNotifications", () => {
  const deploy = run({ pipeline: "deploy-production", environment: "production", event: pushEvent() });
  const test = run({ pipeline: "test", environment: null, event: pushEvent({ branch: "feature/x" }) });
  const pr = run({ pipeline: "test", event: prEvent({ branch: "fix-1" }) });
  const tag = run({
    pipeline: "release",
    event: pushEvent({ branch: undefined, tag: "v1.0.0", ref: "refs/tags/v1.0.0" }),
  });

  it.each<[string, Partial<NotificationConfig>, typeof deploy, string, boolean]>([
    ["default on: failed", {}, deploy, "failed", true],
    ["default on: error", {}, deploy, "error", true],
    ["default on excludes succeeded", {}, deploy, "succeeded", false],
    ["default on excludes started", {}, deploy, "started", false],
    ["on lists started", { on: ["started"] }, deploy, "started", true],
    ["pipelines glob matches", { pipelines: ["deploy-*"] }, deploy, "failed", true],
    ["pipelines glob excludes", { pipelines: ["deploy-*"] }, test, "failed", false],
    ["pipelines negation, last match wins", { pipelines: ["**", "!test"] }, test, "failed", false],
    ["environments matches", { environments: ["prod*"] }, deploy, "failed", true],
    ["environments: a run without one never matches", { environments: ["**"] }, test, "failed", false],
    ["repos matches case-insensitively", { repos: ["ACME/*"] }, deploy, "failed", true],
    ["repos excludes another owner", { repos: ["other/*"] }, deploy, "failed", false],
    ["branches matches a push's branch", { branches: ["feature/**"] }, test, "failed", true],
    ["branches excludes main", { branches: ["feature/**"] }, deploy, "failed", false],
    ["branches matches a PR's head branch", { branches: ["fix-*"] }, pr, "failed", true],
    ["branches: a tag push has no branch", { branches: ["**"] }, tag, "failed", false],
    [
      "every filter at once",
      { pipelines: ["deploy-*"], environments: ["production"], repos: ["acme/app"], branches: ["main"] },
      deploy,
      "failed",
      true,
    ],
  ])("%s", (_title, overrides, subject, outcome, expected) => {
    const matched = matchNotifications(subject, outcome as never, [notification(overrides)]);
    expect(matched.length === 1).toBe(expected);
  });

  it("returns every matching notification, in config order", () => {
    const list = [
      notification({ name: "a" }),
      notification({ name: "b", pipelines: ["test"] }),
      notification({ name: "c", on: ["failed"] }),
    ];
    expect(matchNotifications(deploy, "failed", list).map((n) => n.name)).toEqual(["a", "c"]);
  });
});
