import { describe, expect, it } from "vitest";
import {
  CHECK_OUTPUT_MAX,
  checkRunState,
  renderCheckRun,
  renderCheckRunSummary,
  renderCheckRunText,
} from "../../src/report/render-check-run.ts";
import type { RunRecord, RunState } from "../../src/runs/run.ts";
import { at, prEvent, run, step, T0, testSteps } from "./fixtures.ts";

const URL = "https://bot.example.com/runs/run-test";
const NAME = "deploy-bot/test";
const NOW = at(600);

function render(record: RunRecord, log?: string, delivery: readonly RunRecord[] = [record]) {
  return renderCheckRun({ run: record, delivery, name: NAME, detailsUrl: URL, log, now: NOW });
}

describe("checkRunState", () => {
  it.each<[RunState, string, string | undefined]>([
    ["queued", "queued", undefined],
    ["running", "in_progress", undefined],
    ["awaiting_approval", "completed", "action_required"],
    ["waiting", "completed", "action_required"],
    ["passed", "completed", "success"],
    ["failed", "completed", "failure"],
    ["timed_out", "completed", "timed_out"],
    ["skipped", "completed", "skipped"],
    ["cancelled", "completed", "cancelled"],
    ["superseded", "completed", "cancelled"],
    ["interrupted", "completed", "cancelled"],
    ["error", "completed", "cancelled"],
  ])("%s → %s %s", (state, status, conclusion) => {
    expect(checkRunState(state)).toEqual(conclusion ? { status, conclusion } : { status });
  });
});

describe("renderCheckRun", () => {
  it("a queued run: name, external id, details URL, no start, no button", () => {
    expect(render(run({ steps: testSteps([]) }))).toEqual({
      name: NAME,
      external_id: "run-test",
      details_url: URL,
      status: "queued",
      output: {
        title: "Queued",
        summary: [
          "Queued: it starts when a worker is free and the pipelines it needs have passed.",
          "",
          "| # | Step | State | Duration |",
          "| ---: | --- | --- | --- |",
          "| 1 | Install | ⏳ pending |  |",
          "| 2 | Unit tests | ⏳ pending |  |",
          "| 3 | Lint | ⏳ pending |  |",
          "",
          `Commit \`1a2b3c4\` · [Run page with the full log](${URL})`,
        ].join("\n"),
      },
      actions: [],
    });
  });

  it("a running run: in_progress with started_at, durations of finished steps only", () => {
    const rendered = render(
      run({ state: "running", startedAt: T0, steps: testSteps(["passed", "running"]) }),
    );
    expect(rendered.status).toBe("in_progress");
    expect(rendered.started_at).toBe("2025-01-01T12:00:00.000Z");
    expect(rendered.completed_at).toBeUndefined();
    expect(rendered.conclusion).toBeUndefined();
    expect(rendered.output.title).toBe("Running: Unit tests (2/3)");
    expect(rendered.output.summary).toContain(
      "| 1 | Install | ✅ passed | 20s |\n| 2 | Unit tests | 🔄 running |  |",
    );
  });

  it("a failed run: failure, completed_at, the log tail as text", () => {
    const record = run({
      state: "failed",
      startedAt: T0,
      finishedAt: at(40),
      steps: testSteps(["passed", "failed"]),
    });
    expect(render(record, "npm ERR! one\nnpm ERR! two\n")).toEqual({
      name: NAME,
      external_id: "run-test",
      details_url: URL,
      status: "completed",
      conclusion: "failure",
      started_at: "2025-01-01T12:00:00.000Z",
      completed_at: "2025-01-01T12:00:40.000Z",
      output: {
        title: "Failed: Unit tests exited with 1",
        summary: [
          "Your pipeline failed. The end of the failing step's log is below; the run page has all of it.",
          "",
          "| # | Step | State | Duration |",
          "| ---: | --- | --- | --- |",
          "| 1 | Install | ✅ passed | 20s |",
          "| 2 | Unit tests | ❌ failed (exit 1) | 20s |",
          "| 3 | Lint | ⏳ pending |  |",
          "",
          `Commit \`1a2b3c4\` · [Run page with the full log](${URL})`,
        ].join("\n"),
        text: "Last 2 lines of `Unit tests` (secrets masked):\n\n```text\nnpm ERR! one\nnpm ERR! two\n```\n",
      },
      actions: [],
    });
  });

  it("a run awaiting approval: action_required with an Approve button", () => {
    const record = run({ state: "awaiting_approval", event: prEvent({ fork: true }) });
    const rendered = render(record);
    expect(rendered).toMatchObject({ status: "completed", conclusion: "action_required" });
    expect(rendered.completed_at).toBeUndefined();
    expect(rendered.actions).toEqual([
      { identifier: "approve", label: "Approve", description: "Run this fork's commit 1a2b3c4" },
    ]);
    expect(rendered.output.summary.split("\n\n")[0]).toBe(
      "This commit comes from a fork, so it waits for a maintainer: someone with write access can click **Approve** above or comment `/deploy-bot approve`. Approval covers exactly commit `1a2b3c4`.",
    );
  });

  it("a waiting manual run: action_required with a Deploy button naming the environment", () => {
    const record = run({ state: "waiting", pipeline: "deploy", environment: "production" });
    const rendered = render(record);
    expect(rendered.actions).toEqual([
      { identifier: "deploy", label: "Deploy", description: "Deploy to production" },
    ]);
    expect(rendered.output.title).toBe("Waiting for /deploy-bot deploy production");
  });

  it("keeps button descriptions within 40 characters, on a grapheme boundary", () => {
    const record = run({ state: "waiting", environment: `staging-${"👩‍💻".repeat(20)}` });
    const [button] = render(record).actions;
    expect(button?.description.length).toBeLessThanOrEqual(40);
    expect(button?.description.endsWith("…")).toBe(true);
    expect(button?.description).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it("a bot error is cancelled, never failure, and says it is not your code", () => {
    const record = run({
      state: "error",
      detail: "Checkout failed: repository not found",
      finishedAt: at(5),
    });
    const rendered = render(record);
    expect(rendered).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(rendered.output.title).toBe("Checkout failed: repository not found");
    expect(rendered.output.summary).toMatch(
      /^deploy-bot could not run this pipeline to the end: .*not a failure of your code/,
    );
    expect(rendered.output.text).toBeUndefined();
  });

  it("a skipped dependent says which need did not pass", () => {
    const test = run({ id: "t", state: "failed" });
    const deploy = run({ id: "d", pipeline: "deploy", needs: ["test"], state: "skipped" });
    const rendered = render(deploy, undefined, [test, deploy]);
    expect(rendered).toMatchObject({ conclusion: "skipped", output: { title: "Skipped: test failed" } });
  });

  it("leaves details_url out without a public URL", () => {
    const rendered = renderCheckRun({ run: run(), delivery: [run()], name: NAME, now: NOW });
    expect(rendered).not.toHaveProperty("details_url");
    expect(rendered.output.summary.endsWith("Commit `1a2b3c4`")).toBe(true);
  });
});

describe("renderCheckRunSummary: hostile step names", () => {
  it("makes names inert: no mentions, links, HTML, table breaks or newlines", () => {
    const record = run({
      steps: [
        step(0, "@acme/admins | <img src=x onerror=alert(1)> [x](https://evil.example)\n| 9 | fake | row |"),
        step(1, "`$x$` **bold** ~~gone~~ \u001b[31mred"),
      ],
    });
    expect(renderCheckRunSummary(record).split("\n").slice(4, 6)).toEqual([
      "| 1 | @\u200bacme/admins \\| &lt;img src=x onerror=alert(1)&gt; \\[x\\](https://evil.example) \\| 9 \\| fake \\| row \\| | ⏳ pending |  |",
      "| 2 | \\`\\$x\\$\\` \\*\\*bold\\*\\* \\~\\~gone\\~\\~ red | ⏳ pending |  |",
    ]);
  });

  it("cuts a 10,000-character name to 100 and 5,000 long-named steps to 65,535 characters", () => {
    const one = renderCheckRunSummary(run({ steps: [step(0, "x".repeat(10_000))] }));
    expect(one).toContain(`| 1 | ${"x".repeat(99)}… | ⏳ pending |  |`);
    const many = renderCheckRunSummary(
      run({ steps: Array.from({ length: 5_000 }, (_, i) => step(i, `${"y".repeat(90)} ${i}`)) }),
    );
    expect(many.length).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(many).toMatch(/\| … \| \d+ more steps not shown \| \| \|\n\nCommit `1a2b3c4`$/);
  });
});

describe("renderCheckRunText: the log tail", () => {
  const failed = run({ state: "failed", steps: testSteps(["passed", "failed"]) });

  it("shows at most 200 lines of a 200 MB log, within GitHub's limit", () => {
    const line = "0123456789".repeat(10);
    const log = `${line}\n`.repeat(2_000_000); // 202 MB
    const text = renderCheckRunText(failed, log) ?? "";
    expect(text.startsWith("Last 200 lines of `Unit tests` (secrets masked):\n\n```text\n")).toBe(true);
    expect(text.split("\n").filter((l) => l === line)).toHaveLength(200);
    expect(text.length).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
  });

  it("shows fewer lines when long lines would not fit, and never more than 65,535 characters", () => {
    const log = `${"z".repeat(5_000)}\n`.repeat(1_000);
    const text = renderCheckRunText(failed, log) ?? "";
    // Lines are cut to 300 characters; lines this long mean fewer of them are read from the end.
    expect(text.length).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(text).toMatch(/^Last 1\d\d lines of /);
    expect(text.split("\n").filter((l) => l === `${"z".repeat(299)}…`).length).toBeGreaterThan(100);
    const wide = `${"💥".repeat(200)}\n`.repeat(1_000);
    const emoji = renderCheckRunText(failed, wide) ?? "";
    expect(emoji.length).toBeLessThanOrEqual(CHECK_OUTPUT_MAX);
    expect(emoji).toMatch(/^Last (200|100) lines of /);
  });

  it("a log that tries to close the fence cannot", () => {
    const text = renderCheckRunText(failed, "ok\n````\n# Injected heading\n@acme/admins\n") ?? "";
    expect(text).toBe(
      "Last 4 lines of `Unit tests` (secrets masked):\n\n`````text\nok\n````\n# Injected heading\n@acme/admins\n`````\n",
    );
  });

  it("strips colour codes and control characters; an empty log shows nothing", () => {
    expect(renderCheckRunText(failed, "\u001b[31mred\u001b[0m\u0007 bell\n")).toBe(
      "Last line of `Unit tests` (secrets masked):\n\n```text\nred bell\n```\n",
    );
    expect(renderCheckRunText(failed, "")).toBeUndefined();
    expect(renderCheckRunText(failed, "\n\n  \n")).toBeUndefined();
  });

  it("names a hostile step inertly", () => {
    const hostile = run({
      state: "failed",
      steps: [step(0, "evil` **x** @team", { state: "failed", exitCode: 1 })],
    });
    expect(renderCheckRunText(hostile, "boom\n")?.split("\n")[0]).toBe(
      "Last line of ``evil` **x** @team`` (secrets masked):",
    );
  });

  it("is left out of the check run for a run that did not fail", () => {
    expect(render(run({ state: "passed", finishedAt: at(1) }), undefined).output).not.toHaveProperty("text");
  });
});
