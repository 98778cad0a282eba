import { describe, expect, it } from "vitest";
import { COMMENT_MARKER, COMMENT_MAX_CHARS, renderComment } from "../../src/report/render-comment.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { at, prEvent, run, SHA, testSteps } from "./fixtures.ts";

const event = prEvent();
const runUrl = (id: string) => `https://bot.example.com/runs/${id}`;
const noTails = new Map<string, string>();
const header = [
  COMMENT_MARKER,
  "### deploy-bot",
  "",
  `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA}) · \`feature\` → \`main\``,
  "",
  "| Pipeline | Status | Duration | Run |",
  "| --- | --- | --- | --- |",
];

const failedTest = run({
  id: "r1",
  event,
  pipeline: "test",
  state: "failed",
  detail: "Unit tests exited with 1",
  startedAt: at(0),
  finishedAt: at(40),
  steps: testSteps(["passed", "failed", "pending"]),
});
const skippedDeploy = run({
  id: "r2",
  event,
  pipeline: "deploy-preview",
  environment: "preview",
  needs: ["test"],
  state: "skipped",
  detail: "test failed",
});

describe("renderComment: environments", () => {
  it("links the environment to the URL a step reported, and never a non-http(s) one", () => {
    const deployed = (id: string, environment: string, environmentUrl: string | null) =>
      run({
        id,
        event,
        pipeline: "deploy",
        environment,
        environmentUrl,
        state: "passed",
        startedAt: at(0),
        finishedAt: at(30),
      });
    const runs = [
      deployed("a", "staging", "https://pr-7.staging.example.com/path?q=(1)"),
      deployed("b", "pre[view]", null),
      deployed("c", "evil", "javascript:alert(1)"),
    ];
    expect(renderComment({ event, runs, tails: noTails, runUrl, now: at(80) })).toBe(
      [
        ...header,
        "| deploy ([staging](https://pr-7.staging.example.com/path?q=%281%29)) | ✅ Passed in 30s | 30s | [details](https://bot.example.com/runs/a) |",
        "| deploy (pre\\[view\\]) | ✅ Passed in 30s | 30s | [details](https://bot.example.com/runs/b) |",
        "| deploy (evil) | ✅ Passed in 30s | 30s | [details](https://bot.example.com/runs/c) |",
        "",
      ].join("\n"),
    );
  });
});

describe("renderComment", () => {
  it("renders a passing PR", () => {
    const runs = [
      run({ id: "r1", event, pipeline: "test", state: "passed", startedAt: at(0), finishedAt: at(72) }),
      run({
        id: "r2",
        event,
        pipeline: "deploy-preview",
        needs: ["test"],
        state: "running",
        startedAt: at(72),
        steps: testSteps(["running"]),
      }),
      run({ id: "r3", event, pipeline: "e2e", needs: ["deploy-preview"], state: "queued" }),
    ];
    expect(renderComment({ event, runs, tails: noTails, runUrl, now: at(80) })).toBe(
      [
        ...header,
        "| test | ✅ Passed in 1m 12s | 1m 12s | [details](https://bot.example.com/runs/r1) |",
        "| deploy-preview | 🔄 Running: Install (1/3) | 8s | [details](https://bot.example.com/runs/r2) |",
        "| e2e | ⏳ Waiting for deploy-preview | — | [details](https://bot.example.com/runs/r3) |",
        "",
      ].join("\n"),
    );
  });

  it("shows the failing step's log tail in a collapsed block with a fence longer than any backtick run", () => {
    const tails = new Map([["r1", "ok 1\nnot ok 2 - adds @bob <b>\n```\nexit 1\n"]]);
    expect(renderComment({ event, runs: [failedTest, skippedDeploy], tails, runUrl, now: at(60) })).toBe(
      [
        ...header,
        "| test | ❌ Failed: Unit tests exited with 1 | 40s | [details](https://bot.example.com/runs/r1) |",
        "| deploy-preview (preview) | ⏭️ Skipped: test failed | — | [details](https://bot.example.com/runs/r2) |",
        "",
        "<details><summary>❌ test: last 4 lines of Unit tests</summary>",
        "",
        "````text",
        "ok 1",
        "not ok 2 - adds @bob <b>",
        "```",
        "exit 1",
        "````",
        "",
        "</details>",
        "",
      ].join("\n"),
    );
  });

  it("keeps only the last 30 lines of a tail", () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n");
    const body = renderComment({
      event,
      runs: [failedTest],
      tails: new Map([["r1", log]]),
      runUrl,
      now: at(60),
    });
    expect(body).toContain("last 30 lines of Unit tests");
    expect(body).toContain("```text\nline 71\nline 72\n");
    expect(body).toContain("line 100\n```\n");
    expect(body).not.toContain("line 70\n");
  });

  it("makes hostile branch and pipeline names inert", () => {
    const hostile = prEvent({
      branch: "feat/$(rm -rf /)`x`<script>@org/team| a |",
      fork: true,
      headRepoFullName: "evil/app",
    });
    const runs = [
      run({
        id: "h",
        event: hostile,
        pipeline: "@org/team | <script>alert(1)</script> `x` $x$ [a](b)",
        state: "failed",
      }),
    ];
    const tails = new Map([["h", "@everyone </details> <img src=x> ``````"]]);
    expect(renderComment({ event: hostile, runs, tails, runUrl: () => undefined, now: at(60) })).toBe(
      [
        COMMENT_MARKER,
        "### deploy-bot",
        "",
        `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA}) · \`\`evil/app:feat/$(rm -rf /)\`x\`<script>@org/team| a |\`\` → \`main\``,
        "",
        "| Pipeline | Status | Duration | Run |",
        "| --- | --- | --- | --- |",
        "| @\u200borg/team \\| &lt;script&gt;alert(1)&lt;/script&gt; \\`x\\` \\$x\\$ \\[a\\](b) | ❌ Failed | — | — |",
        "",
        "<details><summary>❌ @\u200borg/team | &lt;script&gt;alert(1)&lt;/script&gt; `x` $x$ [a](b): last 1 lines</summary>",
        "",
        "```````text",
        "@everyone </details> <img src=x> ``````",
        "```````",
        "",
        "</details>",
        "",
      ].join("\n"),
    );
  });

  it("explains how to approve a fork's runs", () => {
    const fork = prEvent({ fork: true, headRepoFullName: "someone/app" });
    const runs = [run({ id: "a", event: fork, pipeline: "test", state: "awaiting_approval" })];
    expect(renderComment({ event: fork, runs, tails: noTails, runUrl, now: at(0) })).toBe(
      [
        COMMENT_MARKER,
        "### deploy-bot",
        "",
        `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA}) · \`someone/app:feature\` → \`main\``,
        "",
        "| Pipeline | Status | Duration | Run |",
        "| --- | --- | --- | --- |",
        "| test | 🔒 Awaiting approval: a maintainer must approve this fork's commit | — | [details](https://bot.example.com/runs/a) |",
        "",
        "**🔒 Awaiting approval.** This pull request comes from a fork, so its pipelines wait for a maintainer.",
        "Someone with write access to this repository can approve by adding the label `deploy-bot:approved` or by",
        "commenting `/deploy-bot approve`. Approval covers exactly commit `1a2b3c4`: a new push needs a new",
        "approval.",
        "",
      ].join("\n"),
    );
  });

  it("stays under 65,536 characters with a 200 MB log, cheaply", () => {
    const huge = "x"
      .repeat(1000)
      .concat("\n")
      .repeat(200 * 1024);
    expect(huge.length).toBeGreaterThan(200_000_000);
    const body = renderComment({
      event,
      runs: [failedTest],
      tails: new Map([["r1", huge]]),
      runUrl,
      now: at(60),
    });
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(body).toContain("last 30 lines of Unit tests");
    expect(body).toContain(`\`\`\`text\n${"x".repeat(299)}…\n`);
  });

  it("shrinks, then drops, tails of many failures to stay under the limit", () => {
    const line = "y".repeat(400);
    const log = Array.from({ length: 50 }, () => line).join("\n");
    const many = (n: number): RunRecord[] =>
      Array.from({ length: n }, (_, i) => ({ ...failedTest, id: `f${i}`, pipeline: `p${i}` }));
    const tailsFor = (runs: RunRecord[]) => new Map(runs.map((r) => [r.id, log]));

    const ten = many(10);
    const shrunk = renderComment({ event, runs: ten, tails: tailsFor(ten), runUrl, now: at(60) });
    expect(shrunk.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(shrunk).toContain("p9: last 10 lines of Unit tests");

    const hundred = many(100);
    const dropped = renderComment({ event, runs: hundred, tails: tailsFor(hundred), runUrl, now: at(60) });
    expect(dropped.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(dropped).not.toContain("<details>");
    expect(dropped).toContain("| p99 | ❌ Failed: Unit tests exited with 1 |");
    expect(
      dropped.endsWith(
        "\n\n_Log tails left out to keep this comment within GitHub's size limit; see the run pages._\n",
      ),
    ).toBe(true);
  });

  it("cuts the table of thousands of pipelines with a note", () => {
    const runs = Array.from({ length: 5000 }, (_, i) =>
      run({ id: `id-${i}`, event, pipeline: `pipeline-${i}-${"n".repeat(80)}`, state: "queued" }),
    );
    const body = renderComment({ event, runs, tails: noTails, runUrl, now: at(0) });
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(body).toMatch(/\n\| … \| \d+ more pipelines not shown \| \| \|\n$/);
    expect(body).toContain("| pipeline-0-");
  });
});

describe("renderComment: environment queue", () => {
  it("says which commit deploys there now and where a queued deploy stands in line", () => {
    const runs = [
      run({ id: "t", event, pipeline: "test", state: "passed", startedAt: at(0), finishedAt: at(10) }),
      run({
        id: "d",
        event,
        pipeline: "deploy",
        environment: "production",
        needs: ["test"],
        state: "queued",
      }),
    ];
    const environmentQueues = new Map([
      ["production", { running: { runId: "other", sha: "abc1234def5678" }, queued: ["ahead", "d"] }],
    ]);
    expect(renderComment({ event, runs, tails: noTails, runUrl, now: at(80), environmentQueues })).toBe(
      [
        ...header,
        "| test | ✅ Passed in 10s | 10s | [details](https://bot.example.com/runs/t) |",
        "| deploy (production) | ⏳ Queued | — | [details](https://bot.example.com/runs/d) |",
        "",
        "⏳ Waiting for production: `abc1234` is deploying ([run](https://bot.example.com/runs/other)); this is 2nd in line.",
        "",
      ].join("\n"),
    );
  });
});
