import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../src/config/load-config.ts";
import type { Config } from "../../src/config/schema.ts";
import type { ChangedFiles } from "../../src/events/deploy-event.ts";
import { planEvent } from "../../src/runs/plan-event.ts";
import { pullRequestEvent, pushEvent } from "../fixtures/fixtures.ts";

const PIPELINES = `pipelines:
  lint: {steps: [{name: s, run: x}]}
  test: {steps: [{name: s, run: x}]}
  build: {steps: [{name: s, run: x}]}
  deploy: {environment: production, steps: [{name: s, run: x}]}
`;

function config(rules: string): Config {
  const result = parseConfig(`version: 1\n${PIPELINES}rules:\n${rules}`, "test.yaml");
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("\n"));
  return result.config;
}

const files = (...list: string[]): ChangedFiles => ({ known: true, files: list });

describe("planEvent", () => {
  it("is Ignored when no rule covers the repository", () => {
    const cfg = config("  - {name: a, repos: [acme/*], on: {push: }, run: [test]}\n");
    expect(planEvent(cfg, pushEvent())).toEqual({
      ignored: true,
      reason: "repository Codertocat/Hello-World is not covered by any rule",
    });
  });

  it("lists matched rules, the reason for every other rule, and runs in order", () => {
    const cfg = config(
      [
        "  - {name: main, on: {push: {branches: [main]}}, run: [test, deploy]}",
        "  - {name: dev, on: {push: {branches: [dev]}}, run: [lint]}",
        "  - {name: prs, on: {pull_request: }, run: [test]}",
        "  - {name: other repo, repos: [acme/*], on: {push: }, run: [build]}",
        "",
      ].join("\n"),
    );
    expect(planEvent(cfg, pushEvent())).toEqual({
      matched: [{ rule: "main", pipelines: ["test", "deploy"] }],
      unmatched: [
        { rule: "dev", reason: 'branch "main" does not match branches [dev]' },
        { rule: "prs", reason: "the rule has no push trigger" },
        { rule: "other repo", reason: "repository Codertocat/Hello-World does not match repos [acme/*]" },
      ],
      runs: [
        { pipeline: "test", needs: [], environment: undefined, forks: "approve" },
        { pipeline: "deploy", needs: ["test"], environment: "production", forks: "approve" },
      ],
    });
  });

  it("runs a pipeline named by several rules once; needs is the union of its predecessors", () => {
    const cfg = config(
      [
        "  - {name: a, on: {push: }, run: [test, deploy]}",
        "  - {name: b, on: {push: }, run: [lint, build, deploy]}",
        "  - {name: c, on: {push: }, run: [test]}",
        "",
      ].join("\n"),
    );
    const plan = planEvent(cfg, pushEvent());
    expect(plan).toMatchObject({
      runs: [
        { pipeline: "test", needs: [] },
        { pipeline: "lint", needs: [] },
        { pipeline: "build", needs: ["lint"] },
        { pipeline: "deploy", needs: ["test", "lint", "build"] },
      ],
    });
  });

  it("orders a pipeline after what it needs even if it appeared first", () => {
    const cfg = config(
      [
        "  - {name: a, on: {push: }, run: [build]}",
        "  - {name: b, on: {push: }, run: [test, build]}",
        "",
      ].join("\n"),
    );
    expect(planEvent(cfg, pushEvent())).toMatchObject({
      runs: [
        { pipeline: "test", needs: [] },
        { pipeline: "build", needs: ["test"] },
      ],
    });
  });

  it("drops an edge that would form a cycle, keeping the first rule's order", () => {
    const cfg = config(
      [
        "  - {name: a, on: {push: }, run: [test, build]}",
        "  - {name: b, on: {push: }, run: [build, lint, test]}",
        "",
      ].join("\n"),
    );
    expect(planEvent(cfg, pushEvent())).toMatchObject({
      runs: [
        { pipeline: "test", needs: [] },
        { pipeline: "build", needs: ["test"] },
        { pipeline: "lint", needs: ["build"] },
      ],
    });
  });

  it("carries the strictest fork policy of the rules naming a pipeline", () => {
    const cfg = config(
      [
        "  - {name: a, forks: run, on: {pull_request: }, run: [lint, test]}",
        "  - {name: b, forks: never, on: {pull_request: }, run: [test]}",
        "  - {name: c, on: {pull_request: }, run: [build]}",
        "",
      ].join("\n"),
    );
    expect(planEvent(cfg, pullRequestEvent("pull_request.opened-fork"))).toMatchObject({
      runs: [
        { pipeline: "lint", forks: "run" },
        { pipeline: "test", forks: "never" },
        { pipeline: "build", forks: "approve" },
      ],
    });
  });

  it("asks for a pull request's changed files, then plans with them", () => {
    const cfg = config(
      [
        "  - {name: src, on: {pull_request: {paths: ['src/**']}}, run: [test]}",
        "  - {name: docs, on: {pull_request: {paths: ['docs/**']}}, run: [lint]}",
        "  - {name: all, on: {pull_request: }, run: [build]}",
        "",
      ].join("\n"),
    );
    const event = pullRequestEvent();
    expect(planEvent(cfg, event)).toEqual({ needsChangedFiles: true, rules: ["src", "docs"] });
    expect(planEvent(cfg, { ...event, changedFiles: files("src/a.ts") })).toMatchObject({
      matched: [
        { rule: "src", pipelines: ["test"] },
        { rule: "all", pipelines: ["build"] },
      ],
      unmatched: [{ rule: "docs", reason: "the changed file does not match paths [docs/**]" }],
      runs: [{ pipeline: "test" }, { pipeline: "build" }],
    });
  });

  it("records why a path filter was not applied", () => {
    const cfg = config("  - {name: src, on: {push: {paths: ['src/**']}}, run: [test]}\n");
    const event = pushEvent("push.branch-created");
    expect(planEvent(cfg, event)).toMatchObject({
      matched: [
        {
          rule: "src",
          pipelines: ["test"],
          note: "changed files unknown (new branch): paths filter not applied",
        },
      ],
      runs: [{ pipeline: "test" }],
    });
  });

  it("an empty plan when the repository is covered but nothing matches", () => {
    const cfg = config("  - {name: prs, on: {pull_request: }, run: [test]}\n");
    expect(planEvent(cfg, pushEvent())).toEqual({
      matched: [],
      unmatched: [{ rule: "prs", reason: "the rule has no push trigger" }],
      runs: [],
    });
  });
});

describe("the checked-in deploy.config.yaml with the fixtures", () => {
  const example = async (): Promise<Config> => {
    const result = await loadConfig("deploy.config.yaml");
    if (!result.ok) throw new Error("deploy.config.yaml is invalid");
    return result.config;
  };
  const names = (plan: ReturnType<typeof planEvent>) =>
    "runs" in plan ? plan.runs.map((r) => r.pipeline) : plan;

  it.each([
    ["push.branch", ["test", "deploy-staging"]],
    ["push.branch-docs-only", []],
    ["push.branch-created", ["test", "deploy-staging"]],
    ["push.forced", ["test", "deploy-staging"]],
    ["push.tag", ["test", "deploy-production"]],
  ])("%s runs %j", async (name, pipelines) => {
    expect(names(planEvent(await example(), pushEvent(name)))).toEqual(pipelines);
  });

  it.each([
    ["pull_request.opened", ["src/app.js"], ["test"]],
    ["pull_request.opened", ["README.md", "docs/x.md"], []],
    ["pull_request.opened-draft", ["src/app.js"], []],
    ["pull_request.opened-fork", ["src/app.js"], ["test"]],
    ["pull_request.labeled", ["src/app.js"], []],
  ])("%s with files %j runs %j", async (name, changed, pipelines) => {
    expect(
      names(planEvent(await example(), pullRequestEvent(name, { changedFiles: files(...changed) }))),
    ).toEqual(pipelines);
  });
});
