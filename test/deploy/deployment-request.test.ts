import { describe, expect, it } from "vitest";
import {
  createDeploymentRequest,
  createDeploymentStatusRequest,
  deploymentDescription,
  isProduction,
} from "../../src/deploy/deployment-request.ts";
import { at, prEvent, run, SHA, step } from "../report/fixtures.ts";

const deploy = run({
  id: "run-1",
  deliveryId: "delivery-1",
  pipeline: "deploy-production",
  environment: "production",
});

describe("createDeploymentRequest", () => {
  it("asks for the exact SHA, no auto-merge, no required contexts, and names the run", () => {
    expect(
      createDeploymentRequest({ ...deploy, environment: "production" }, { production: undefined }),
    ).toEqual({
      owner: "acme",
      repo: "app",
      ref: SHA,
      task: "deploy",
      auto_merge: false,
      required_contexts: [],
      payload: { run_id: "run-1", pipeline: "deploy-production", delivery_id: "delivery-1" },
      environment: "production",
      description: "deploy-bot: deploy-production at 1a2b3c4",
      transient_environment: false,
      production_environment: true,
    });
  });

  it("is transient for a pull request, and production only as configured", () => {
    const staging = { ...deploy, environment: "staging", event: prEvent() };
    expect(createDeploymentRequest(staging, undefined)).toMatchObject({
      environment: "staging",
      transient_environment: true,
      production_environment: false,
    });
    expect(createDeploymentRequest(staging, { production: true }).production_environment).toBe(true);
  });

  it("carries rollback_of and says so", () => {
    const rollback = { ...deploy, environment: "production", rollbackOf: "f".repeat(40) };
    const request = createDeploymentRequest(rollback, undefined);
    expect(request.payload).toEqual({
      run_id: "run-1",
      pipeline: "deploy-production",
      delivery_id: "delivery-1",
      rollback_of: "f".repeat(40),
    });
    expect(request.description).toBe("Rollback to 1a2b3c4");
  });

  it.each([
    ["production", undefined, true],
    ["Production", undefined, true],
    ["prod", undefined, false],
    ["production", false, false],
    ["live", true, true],
  ] as const)("isProduction(%s, production: %s) → %s", (environment, production, expected) => {
    expect(isProduction(environment, { production })).toBe(expected);
  });

  it("keeps the description within 140 characters, on one line", () => {
    const long = deploymentDescription({ ...deploy, pipeline: `a\n${"x".repeat(300)}` });
    expect(long.length).toBeLessThanOrEqual(140);
    expect(long).not.toContain("\n");
  });
});

describe("createDeploymentStatusRequest", () => {
  const passed = run({
    ...deploy,
    state: "passed",
    startedAt: at(0),
    finishedAt: at(42),
    steps: [step(0, "Deploy", { state: "passed" })],
  });

  it("links the run page and the environment URL", () => {
    expect(
      createDeploymentStatusRequest(
        passed,
        [passed],
        99,
        { state: "success", environmentUrl: "https://app.example.com/", key: "" },
        "https://bot.example.com/runs/run-1",
        at(50),
      ),
    ).toEqual({
      owner: "acme",
      repo: "app",
      deployment_id: 99,
      state: "success",
      description: "Passed in 42s",
      log_url: "https://bot.example.com/runs/run-1",
      environment_url: "https://app.example.com/",
    });
  });

  it("says what a queued deploy waits for, and leaves out links it does not have", () => {
    const waiting = run({ ...deploy, needs: ["test"] });
    const test = run({ id: "t", pipeline: "test", state: "running" });
    expect(
      createDeploymentStatusRequest(
        waiting,
        [test, waiting],
        99,
        { state: "queued", environmentUrl: undefined, key: "" },
        undefined,
        at(0),
      ),
    ).toEqual({
      owner: "acme",
      repo: "app",
      deployment_id: 99,
      state: "queued",
      description: "Waiting for test",
    });
  });
});
