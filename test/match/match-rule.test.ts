import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { RuleConfig } from "../../src/config/schema.ts";
import type { ChangedFiles } from "../../src/events/deploy-event.ts";
import { matchRule } from "../../src/match/match-rule.ts";
import { pullRequestEvent, pushEvent } from "../fixtures/fixtures.ts";

/** A rule parsed through the real config loader (so defaults apply exactly as in production). */
function rule(on: string, extra = ""): RuleConfig {
  const text = `version: 1\npipelines: {a: {steps: [{name: s, run: x}]}}\nrules:\n  - name: r\n    on: ${on}\n    run: [a]\n${extra}`;
  const result = parseConfig(text, "test.yaml");
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("\n"));
  return result.config.rules[0] as RuleConfig;
}

const files = (...list: string[]): ChangedFiles => ({ known: true, files: list });
const branchPush = (branch: string, changed: ChangedFiles = files("src/app.js")) =>
  pushEvent("push.branch", { branch, ref: `refs/heads/${branch}`, changedFiles: changed });
const tagPush = (tag: string) => pushEvent("push.tag", { tag, ref: `refs/tags/${tag}` });

describe("push: branches, tags and their -ignore lists", () => {
  it.each([
    ["{push: {branches: [main]}}", "main", { matched: true }],
    [
      "{push: {branches: [main]}}",
      "dev",
      { matched: false, reason: 'branch "dev" does not match branches [main]' },
    ],
    ["{push: {branches: ['releases/*']}}", "releases/v1", { matched: true }],
    [
      "{push: {branches: ['releases/*']}}",
      "releases/v1/hotfix",
      { matched: false, reason: 'branch "releases/v1/hotfix" does not match branches [releases/*]' },
    ],
    ["{push: {branches: ['releases/**']}}", "releases/v1/hotfix", { matched: true }],
    [
      "{push: {branches: ['releases/**', '!releases/**-alpha']}}",
      "releases/v2-alpha",
      {
        matched: false,
        reason: 'branch "releases/v2-alpha" does not match branches [releases/**, !releases/**-alpha]',
      },
    ],
    ["{push: {branches: ['!releases/**-alpha', 'releases/**']}}", "releases/v2-alpha", { matched: true }],
    ["{push: {branches-ignore: ['dependabot/**']}}", "main", { matched: true }],
    [
      "{push: {branches-ignore: ['dependabot/**']}}",
      "dependabot/npm/x",
      { matched: false, reason: 'branch "dependabot/npm/x" matches branches-ignore [dependabot/**]' },
    ],
    [
      "{push: {tags: ['v*']}}",
      "main",
      { matched: false, reason: 'branch push "main", but the rule only filters tags' },
    ],
    ["{push: }", "any/branch", { matched: true }],
    ["{push: {}}", "main", { matched: true }],
    ["{push: {branches: [main], tags: ['v*']}}", "main", { matched: true }],
    ["{pull_request: {}}", "main", { matched: false, reason: "the rule has no push trigger" }],
  ])("%s on branch %s", (on, branch, expected) => {
    expect(matchRule(rule(on), branchPush(branch))).toEqual(expected);
  });

  it.each([
    ["{push: {tags: ['v*']}}", "v1.0.0", { matched: true }],
    [
      "{push: {tags: ['v*', '!v*-*']}}",
      "v1.0.0-rc1",
      { matched: false, reason: 'tag "v1.0.0-rc1" does not match tags [v*, !v*-*]' },
    ],
    [
      "{push: {tags-ignore: ['nightly-*']}}",
      "nightly-3",
      { matched: false, reason: 'tag "nightly-3" matches tags-ignore [nightly-*]' },
    ],
    ["{push: {tags-ignore: ['nightly-*']}}", "v1", { matched: true }],
    [
      "{push: {branches: ['**']}}",
      "v1.0.0",
      { matched: false, reason: 'tag push "v1.0.0", but the rule only filters branches' },
    ],
    [
      "{push: {branches-ignore: [dev]}}",
      "v1",
      { matched: false, reason: 'tag push "v1", but the rule only filters branches' },
    ],
    ["{push: }", "v1.0.0", { matched: true }],
    ["{push: {branches: [main], tags: ['v*']}}", "v2", { matched: true }],
    // GitHub Actions does not evaluate path filters for tag pushes.
    ["{push: {paths: ['src/**']}}", "v1.0.0", { matched: true }],
  ])("%s on tag %s", (on, tag, expected) => {
    expect(matchRule(rule(on), tagPush(tag))).toEqual(expected);
  });
});

describe("push: paths and paths-ignore", () => {
  it.each([
    ["{push: {paths: ['src/**']}}", ["src/app.js", "README.md"], { matched: true }],
    [
      "{push: {paths: ['src/**']}}",
      ["lib/a.js", "README.md"],
      { matched: false, reason: "none of the 2 changed files matches paths [src/**]" },
    ],
    [
      "{push: {paths: ['src/**']}}",
      ["README.md"],
      { matched: false, reason: "the changed file does not match paths [src/**]" },
    ],
    [
      "{push: {paths: ['src/**', '!src/**/*.md']}}",
      ["src/docs/a.md"],
      { matched: false, reason: "the changed file does not match paths [src/**, !src/**/*.md]" },
    ],
    [
      "{push: {paths: ['*.js']}}",
      ["src/app.js"],
      { matched: false, reason: "the changed file does not match paths [*.js]" },
    ],
    ["{push: {paths: ['**.js']}}", ["src/app.js"], { matched: true }],
    [
      "{push: {paths: ['src/**']}}",
      [],
      { matched: false, reason: "no files changed, so none matches paths [src/**]" },
    ],
    ["{push: {paths-ignore: ['docs/**']}}", ["docs/a.md", "src/x.ts"], { matched: true }],
    [
      "{push: {paths-ignore: ['docs/**', '**.md']}}",
      ["docs/a.txt", "README.md"],
      { matched: false, reason: "all 2 changed files match paths-ignore [docs/**, **.md]" },
    ],
    ["{push: {paths-ignore: ['docs/**', '!docs/api/**']}}", ["docs/api/x.yaml"], { matched: true }],
    // Branch and path filters must both pass.
    [
      "{push: {branches: [dev], paths: ['src/**']}}",
      ["src/app.js"],
      { matched: false, reason: 'branch "main" does not match branches [dev]' },
    ],
    [
      "{push: {branches: [main], paths: ['src/**']}}",
      ["lib/x.js"],
      { matched: false, reason: "the changed file does not match paths [src/**]" },
    ],
    ["{push: {branches: [main], paths: ['src/**']}}", ["src/x.js"], { matched: true }],
  ])("%s with files %j", (on, changed, expected) => {
    expect(matchRule(rule(on), branchPush("main", files(...changed)))).toEqual(expected);
  });

  it.each([
    [
      "new branch",
      "{push: {paths: ['src/**']}}",
      "changed files unknown (new branch): paths filter not applied",
    ],
    [
      "forced push",
      "{push: {paths-ignore: ['docs/**']}}",
      "changed files unknown (forced push): paths-ignore filter not applied",
    ],
    [
      "2048 commits: GitHub lists at most 2048",
      "{push: {paths: ['src/**']}}",
      "changed files unknown (2048 commits: GitHub lists at most 2048): paths filter not applied",
    ],
  ])("unknown changed files (%s) never mean no files: the rule matches with a note", (reason, on, note) => {
    const event = branchPush("main", { known: false, reason });
    expect(matchRule(rule(on), event)).toEqual({ matched: true, note });
  });
});

describe("pull_request", () => {
  const pr = (overrides: Parameters<typeof pullRequestEvent>[1] = {}) =>
    pullRequestEvent("pull_request.opened", { changedFiles: files("src/app.js"), ...overrides });

  it.each([
    ["opened", { matched: true }],
    ["synchronize", { matched: true }],
    ["reopened", { matched: true }],
    [
      "labeled",
      { matched: false, reason: 'action "labeled" is not in types [opened, synchronize, reopened]' },
    ],
    [
      "ready_for_review",
      { matched: false, reason: 'action "ready_for_review" is not in types [opened, synchronize, reopened]' },
    ],
  ])("default types: %s", (action, expected) => {
    expect(matchRule(rule("{pull_request: }"), pr({ action }))).toEqual(expected);
  });

  it("explicit types replace the default", () => {
    expect(matchRule(rule("{pull_request: {types: [labeled]}}"), pr({ action: "labeled" }))).toEqual({
      matched: true,
    });
    expect(matchRule(rule("{pull_request: {types: [labeled]}}"), pr({ action: "opened" }))).toEqual({
      matched: false,
      reason: 'action "opened" is not in types [labeled]',
    });
  });

  it.each([
    ["{pull_request: }", true, { matched: true }],
    ["{pull_request: {drafts: true}}", true, { matched: true }],
    [
      "{pull_request: {drafts: false}}",
      true,
      { matched: false, reason: "the pull request is a draft and the rule has drafts: false" },
    ],
    ["{pull_request: {drafts: false}}", false, { matched: true }],
  ])("drafts: %s with draft=%s", (on, draft, expected) => {
    expect(matchRule(rule(on), pr({ draft }))).toEqual(expected);
  });

  it.each([
    ["{pull_request: {branches: [main]}}", "main", { matched: true }],
    [
      "{pull_request: {branches: [main]}}",
      "dev",
      { matched: false, reason: 'base branch "dev" does not match branches [main]' },
    ],
    [
      "{pull_request: {branches-ignore: ['wip/**']}}",
      "wip/x/y",
      { matched: false, reason: 'base branch "wip/x/y" matches branches-ignore [wip/**]' },
    ],
  ])("%s with base %s", (on, baseBranch, expected) => {
    expect(matchRule(rule(on), pr({ baseBranch }))).toEqual(expected);
  });

  it("the head branch is not what branches filters", () => {
    expect(matchRule(rule("{pull_request: {branches: [changes]}}"), pr())).toEqual({
      matched: false,
      reason: 'base branch "main" does not match branches [changes]',
    });
  });

  it("asks for the changed files when a path filter needs them and the PR's files were not listed", () => {
    const fresh = pullRequestEvent("pull_request.opened");
    expect(matchRule(rule("{pull_request: {paths: ['src/**']}}"), fresh)).toEqual({
      needsChangedFiles: true,
    });
    expect(matchRule(rule("{pull_request: {paths-ignore: ['docs/**']}}"), fresh)).toEqual({
      needsChangedFiles: true,
    });
    // No path filter: no need for the files.
    expect(matchRule(rule("{pull_request: }"), fresh)).toEqual({ matched: true });
    // Other filters are decided first: no API call for a rule that cannot match anyway.
    expect(matchRule(rule("{pull_request: {branches: [dev], paths: ['src/**']}}"), fresh)).toEqual({
      matched: false,
      reason: 'base branch "main" does not match branches [dev]',
    });
  });

  it("a listing over GitHub's cap does not ask again: the path filter is not applied", () => {
    const capped = pr({ changedFiles: { known: false, reason: "3000 files" } });
    expect(matchRule(rule("{pull_request: {paths: ['src/**']}}"), capped)).toEqual({
      matched: true,
      note: "changed files unknown (3000 files): paths filter not applied",
    });
  });

  it.each([
    [["src/app.js"], "{pull_request: {paths: ['src/**']}}", { matched: true }],
    [
      ["docs/a.md"],
      "{pull_request: {paths-ignore: ['docs/**']}}",
      { matched: false, reason: "the changed file matches paths-ignore [docs/**]" },
    ],
  ])("listed files %j with %s", (changed, on, expected) => {
    expect(matchRule(rule(on), pr({ changedFiles: files(...changed) }))).toEqual(expected);
  });

  it("a push-only rule does not match a pull request", () => {
    expect(matchRule(rule("{push: }"), pr())).toEqual({
      matched: false,
      reason: "the rule has no pull_request trigger",
    });
  });
});

describe("repos", () => {
  it.each([
    ["[Codertocat/*]", { matched: true }],
    ["[codertocat/hello-world]", { matched: true }],
    ["['*/Hello-*']", { matched: true }],
    [
      "[acme/*]",
      { matched: false, reason: "repository Codertocat/Hello-World does not match repos [acme/*]" },
    ],
    [
      "['**', '!Codertocat/Hello-World']",
      {
        matched: false,
        reason: "repository Codertocat/Hello-World does not match repos [**, !Codertocat/Hello-World]",
      },
    ],
    ["['*']", { matched: false, reason: "repository Codertocat/Hello-World does not match repos [*]" }],
  ])("repos %s", (repos, expected) => {
    expect(matchRule(rule("{push: }", `    repos: ${repos}\n`), branchPush("main"))).toEqual(expected);
  });
});
