import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { ForksPolicy } from "../../src/config/schema.ts";
import type { Plan } from "../../src/runs/plan.ts";
import { startingRuns } from "../../src/runs/starting-runs.ts";
import { pullRequestEvent } from "../queue/fixtures.ts";

const parsed = parseConfig(
  `
version: 1
pipelines:
  test: { steps: [{ name: Unit tests, run: "true" }, { name: Lint, run: "true" }] }
  deploy: { environment: preview, steps: [{ name: Deploy, run: "true" }] }
rules:
  - name: all
    on: { pull_request: {} }
    run: [test, deploy]
`,
  "deploy.config.yaml",
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const config = parsed.config;

const plan = (testForks: ForksPolicy, deployForks: ForksPolicy): Plan => ({
  matched: [{ rule: "all", pipelines: ["test", "deploy"] }],
  unmatched: [],
  runs: [
    { pipeline: "test", needs: [], environment: undefined, forks: testForks },
    { pipeline: "deploy", needs: ["test"], environment: "preview", forks: deployForks },
  ],
});

describe("startingRuns", () => {
  it.each([
    {
      name: "a branch of the repository starts everything",
      fork: false,
      forks: ["never", "never"],
      runs: ["test:queued:", "deploy:queued:test"],
    },
    {
      name: "a fork runs what rules allow",
      fork: true,
      forks: ["run", "run"],
      runs: ["test:queued:", "deploy:queued:test"],
    },
    {
      name: "a fork waits for approval",
      fork: true,
      forks: ["run", "approve"],
      runs: ["test:queued:", "deploy:awaiting_approval:test"],
    },
    {
      name: "a fork drops never-runs and needs on them",
      fork: true,
      forks: ["never", "run"],
      runs: ["deploy:queued:"],
    },
    { name: "a fork may run nothing", fork: true, forks: ["never", "never"], runs: [] },
  ] as const)("$name", ({ fork, forks, runs }) => {
    const started = startingRuns(config, plan(forks[0], forks[1]), pullRequestEvent({ fork }));
    expect(started.map((r) => `${r.pipeline}:${r.initialState}:${r.needs.join(",")}`)).toEqual(runs);
  });

  it("carries environments and step names from the config", () => {
    const started = startingRuns(config, plan("run", "run"), pullRequestEvent({ fork: false }));
    expect(started.map((r) => [r.pipeline, r.environment, r.stepNames])).toEqual([
      ["test", null, ["Unit tests", "Lint"]],
      ["deploy", "preview", ["Deploy"]],
    ]);
  });
});
