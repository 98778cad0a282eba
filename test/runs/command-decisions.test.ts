import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { Config } from "../../src/config/schema.ts";
import {
  canWrite,
  decideRetry,
  decideRollback,
  deployersProblem,
  pipelineFor,
} from "../../src/runs/command-decisions.ts";
import type { DeployRecord } from "../../src/runs/command-run.ts";
import type { RunState } from "../../src/runs/run.ts";
import { run } from "../report/fixtures.ts";

const CONFIG = `version: 1
pipelines:
  test:
    steps: [{ name: Unit tests, run: npm test }]
  build:
    steps: [{ name: Build, run: make }]
  deploy-staging:
    environment: staging
    steps: [{ name: Deploy, run: ./deploy.sh }]
  deploy-production:
    environment: production
    manual: true
    deployers: [Alice, bob]
    steps: [{ name: Deploy, run: ./deploy.sh }]
  smoke-a:
    environment: qa
    steps: [{ name: Smoke, run: ./smoke.sh }]
  smoke-b:
    environment: qa
    steps: [{ name: Smoke, run: ./smoke.sh }]
rules: []
`;
const parsed = parseConfig(CONFIG, "deploy.config.yaml");
if (!parsed.ok) throw new Error("bad test config");
const config: Config = parsed.config;
const SHA = "a".repeat(40);

describe("canWrite", () => {
  it.each([
    [{ permission: "admin" }, true],
    [{ permission: "write" }, true],
    [{ permission: "write", roleName: "maintain" }, true],
    [{ permission: "read", roleName: "maintain" }, true],
    [{ permission: "read", roleName: "triage" }, false],
    [{ permission: "read" }, false],
    [{ permission: "none" }, false],
    [{ permission: "no" }, false],
    [{ permission: "WRITE" }, false],
  ])("%j → %s", (permission, expected) => {
    expect(canWrite(permission)).toBe(expected);
  });
});

describe("deployersProblem", () => {
  it.each([
    ["alice", ["deploy-production"], undefined],
    ["ALICE", ["deploy-production"], undefined],
    ["bob", ["test", "deploy-production"], undefined],
    ["carol", ["deploy-production"], "only Alice, bob may deploy deploy-production"],
    ["carol", ["deploy-staging", "test"], undefined],
    ["alic", ["deploy-production"], "only Alice, bob may deploy deploy-production"],
  ])("%s starting %j", (login, pipelines, expected) => {
    expect(deployersProblem(config, login, pipelines)).toBe(expected);
  });
});

describe("pipelineFor", () => {
  it.each([
    ["staging", { pipeline: "deploy-staging" }],
    ["production", { pipeline: "deploy-production" }],
    ["qa", { refused: "several pipelines deploy to qa (smoke-a, smoke-b): use retry <pipeline>" }],
    ["moon", { refused: "unknown environment moon (environments: production, qa, staging)" }],
    ["Staging", { refused: "unknown environment Staging (environments: production, qa, staging)" }],
  ])("%s", (environment, expected) => {
    expect(pipelineFor(config, environment)).toEqual(expected);
  });
});

describe("decideRetry", () => {
  const r = (id: string, pipeline: string, state: RunState, needs: string[] = []) =>
    run({ id, pipeline, state, needs, environment: config.pipelines[pipeline]?.environment ?? null });

  it.each<[string, ReturnType<typeof r>[], string | undefined, unknown]>([
    [
      "runs again only what did not pass, keeping the chain among them",
      [
        r("1", "test", "passed"),
        r("2", "build", "failed", ["test"]),
        r("3", "deploy-staging", "skipped", ["test", "build"]),
      ],
      undefined,
      [
        { pipeline: "build", needs: [], retryOf: "2", manual: false },
        { pipeline: "deploy-staging", needs: ["build"], retryOf: "3", manual: false },
      ],
    ],
    [
      "a manual pipeline in a retried chain waits again",
      [r("1", "test", "failed"), r("2", "deploy-production", "skipped", ["test"])],
      undefined,
      [
        { pipeline: "test", needs: [], retryOf: "1", manual: false },
        { pipeline: "deploy-production", needs: ["test"], retryOf: "2", manual: true },
      ],
    ],
    [
      "only the newest run of each pipeline counts",
      [r("1", "test", "failed"), r("2", "test", "passed")],
      undefined,
      { refused: "every run at aaaaaaa passed" },
    ],
    [
      "in the order of the newest runs",
      [
        r("1", "deploy-staging", "cancelled"),
        r("2", "test", "failed"),
        r("3", "deploy-staging", "skipped", ["test"]),
      ],
      undefined,
      [
        { pipeline: "test", needs: [], retryOf: "2" },
        { pipeline: "deploy-staging", needs: ["test"], retryOf: "3" },
      ],
    ],
    ["nothing ran", [], undefined, { refused: "nothing ran at aaaaaaa" }],
    [
      "something still runs",
      [r("1", "test", "running"), r("2", "build", "failed")],
      undefined,
      { refused: "runs at aaaaaaa are still queued or running" },
    ],
    [
      "the named pipeline, even when it passed",
      [r("1", "test", "passed"), r("2", "build", "failed")],
      "test",
      [{ pipeline: "test", needs: [], retryOf: "1", manual: false }],
    ],
    [
      "a named pipeline that never ran",
      [r("1", "test", "passed")],
      "build",
      { refused: "build never ran at aaaaaaa" },
    ],
    ["an unknown pipeline", [r("1", "test", "passed")], "nope", { refused: "unknown pipeline nope" }],
    [
      "a named pipeline still queued",
      [r("1", "test", "queued")],
      "test",
      { refused: "test is queued at aaaaaaa" },
    ],
  ])("%s", (_what, runs, pipeline, expected) => {
    const decision = decideRetry(config, runs, SHA, pipeline);
    if (Array.isArray(expected)) expect(decision).toMatchObject(expected);
    else expect(decision).toEqual(expected);
  });
});

describe("decideRollback", () => {
  const d = (sha: string, pipeline = "deploy-production"): DeployRecord => ({
    runId: `run-${sha}`,
    pipeline,
    sha: sha.repeat(40),
    ref: "refs/heads/main",
    finishedAt: new Date(0),
  });

  it.each<[string, DeployRecord[], unknown]>([
    [
      "the previous good commit",
      [d("c"), d("b"), d("a")],
      {
        pipeline: "deploy-production",
        sha: "b".repeat(40),
        ref: "refs/heads/main",
        rollbackOf: "c".repeat(40),
      },
    ],
    [
      "skips repeated deploys of the current commit",
      [d("c"), d("c"), d("a")],
      {
        pipeline: "deploy-production",
        sha: "a".repeat(40),
        ref: "refs/heads/main",
        rollbackOf: "c".repeat(40),
      },
    ],
    [
      "nothing deployed yet",
      [],
      { refused: "nothing to roll back to: production has no successful deploy yet" },
    ],
    [
      "only one commit ever deployed",
      [d("c"), d("c")],
      { refused: "nothing to roll back to: every successful deploy of production was ccccccc" },
    ],
    [
      "a pipeline no longer configured",
      [d("c"), d("b", "old-deploy")],
      { refused: "pipeline old-deploy is no longer in the config" },
    ],
  ])("%s", (_what, deploys, expected) => {
    expect(decideRollback(config, "production", deploys)).toEqual(expected);
  });
});
