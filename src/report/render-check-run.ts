/**
 * The check run for one run (`settings.checks: true`): what a reviewer sees in the PR's Checks tab. Pure.
 *
 * | run state                                         | status        | conclusion        | button   |
 * |---------------------------------------------------|---------------|-------------------|----------|
 * | `queued`                                          | `queued`      |                   |          |
 * | `running`                                         | `in_progress` |                   |          |
 * | `awaiting_approval` (fork code)                   | `completed`   | `action_required` | Approve  |
 * | `waiting` (a `manual` pipeline)                   | `completed`   | `action_required` | Deploy   |
 * | `passed`                                          | `completed`   | `success`         |          |
 * | `failed`                                          | `completed`   | `failure`         |          |
 * | `timed_out`                                       | `completed`   | `timed_out`       |          |
 * | `skipped` (a pipeline it needs did not pass)      | `completed`   | `skipped`         |          |
 * | `cancelled`, `superseded`, `interrupted`, `error` | `completed`   | `cancelled`       |          |
 *
 * `failure` and `timed_out` mean your pipeline failed; `cancelled` means the bot did not run it to the end (the
 * title says why: `Checkout failed: …`, `Superseded by 1a2b3c4`, …). `neutral` is never used: branch protection
 * counts it as passing, and a bot that could not run your tests must not let a pull request merge.
 * `output.title` is the commit status description; `output.summary` a Markdown table of the steps;
 * `output.text` the last lines of the failing step's (already masked) log. Every user-controlled string is
 * made inert (no mentions, links or HTML) and every field stays within GitHub's limits.
 */
import { formatDuration } from "../config/duration.ts";
import type { RunRecord, RunState, StepRecord, StepState } from "../runs/run.ts";
import { codeBlock, codeSpan, escapeMarkdown, markdownUrl } from "./escape-markdown.ts";
import { lastLines } from "./log-tail.ts";
import { failingStep } from "./render-comment.ts";
import { renderStatus } from "./render-status.ts";
import { singleLine, truncateText } from "./truncate-text.ts";

/** GitHub's limit on `output.summary` and `output.text` (characters). */
export const CHECK_OUTPUT_MAX = 65_535;
/** Lines of the failing step's log shown in `output.text` (fewer when they would not fit). */
export const CHECK_TAIL_LINES = 200;
/** GitHub's limits on a check run action. */
const ACTION_LABEL_MAX = 20;
const ACTION_DESCRIPTION_MAX = 40;
/** Tail sizes tried in turn until the text fits. */
const TAIL_STEPS = [CHECK_TAIL_LINES, 100, 30, 10] as const;
const STEP_NAME_MAX = 100;

/** The identifiers of the buttons (`check_run.requested_action.identifier`). */
export const APPROVE_ACTION = "approve";
export const DEPLOY_ACTION = "deploy";

export type CheckRunStatus = "queued" | "in_progress" | "completed";
export type CheckRunConclusion =
  | "success"
  | "failure"
  | "timed_out"
  | "cancelled"
  | "skipped"
  | "action_required";

export interface CheckRunAction {
  readonly label: string;
  readonly description: string;
  readonly identifier: string;
}

/** The fields of a check run create or update request (`head_sha` aside). */
export interface RenderedCheckRun {
  readonly name: string;
  readonly external_id: string;
  readonly details_url?: string;
  readonly status: CheckRunStatus;
  readonly conclusion?: CheckRunConclusion;
  readonly started_at?: string;
  readonly completed_at?: string;
  readonly output: { readonly title: string; readonly summary: string; readonly text?: string };
  /** Empty when there is no button (an update then removes an earlier one). */
  readonly actions: readonly CheckRunAction[];
}

export interface CheckRunInput {
  readonly run: RunRecord;
  /** Every run of the same delivery (for `Waiting for test` and `test failed`). */
  readonly delivery: readonly RunRecord[];
  /** `<statusContext>/<pipeline>`. */
  readonly name: string;
  /** The run page, when the server has a public URL. */
  readonly detailsUrl?: string | undefined;
  /** The failing step's masked log, of any size (only its end is read); for a failed or timed-out run. */
  readonly log?: string | undefined;
  readonly now: Date;
}

/** The check run `status` and `conclusion` for a run state (see the table above). */
export function checkRunState(state: RunState): {
  status: CheckRunStatus;
  conclusion?: CheckRunConclusion;
} {
  switch (state) {
    case "queued":
      return { status: "queued" };
    case "running":
      return { status: "in_progress" };
    case "awaiting_approval":
    case "waiting":
      return { status: "completed", conclusion: "action_required" };
    case "passed":
      return { status: "completed", conclusion: "success" };
    case "failed":
      return { status: "completed", conclusion: "failure" };
    case "timed_out":
      return { status: "completed", conclusion: "timed_out" };
    case "skipped":
      return { status: "completed", conclusion: "skipped" };
    case "cancelled":
    case "superseded":
    case "interrupted":
    case "error":
      return { status: "completed", conclusion: "cancelled" };
  }
}

export function renderCheckRun(input: CheckRunInput): RenderedCheckRun {
  const { run } = input;
  const state = checkRunState(run.state);
  const text = input.log === undefined ? undefined : renderCheckRunText(run, input.log);
  const final = state.status === "completed" && state.conclusion !== "action_required";
  return {
    name: input.name,
    external_id: run.id,
    ...(input.detailsUrl ? { details_url: input.detailsUrl } : {}),
    ...state,
    ...(run.startedAt && state.status !== "queued" ? { started_at: run.startedAt.toISOString() } : {}),
    ...(final && run.finishedAt ? { completed_at: run.finishedAt.toISOString() } : {}),
    output: {
      title: renderStatus(run, input.delivery, input.now).description,
      summary: renderCheckRunSummary(run, input.detailsUrl),
      ...(text ? { text } : {}),
    },
    actions: actionsFor(run),
  };
}

/** What the run's state means for the reader, the steps as a table, and where the whole story is. */
export function renderCheckRunSummary(run: RunRecord, detailsUrl?: string): string {
  const meaning = MEANING[run.state](run);
  const rows = run.steps.map(stepRow);
  const head = ["| # | Step | State | Duration |", "| ---: | --- | --- | --- |"];
  const link = detailsUrl ? `[Run page with the full log](${markdownUrl(detailsUrl)})` : undefined;
  const footer = [`Commit ${codeSpan(run.event.sha.slice(0, 7))}`, link].filter(Boolean).join(" · ");
  const table = rows.length > 0 ? [...head, ...rows].join("\n") : "_No steps._";
  const summary = [meaning, table, footer].filter(Boolean).join("\n\n");
  if (summary.length <= CHECK_OUTPUT_MAX) return summary;
  // Thousands of steps with long names: keep what fits, say how many are left out.
  const kept: string[] = [];
  let size = meaning.length + footer.length + head.join("\n").length + 200;
  for (const [i, row] of rows.entries()) {
    if (size + row.length + 1 > CHECK_OUTPUT_MAX) {
      kept.push(`| … | ${rows.length - i} more steps not shown | | |`);
      break;
    }
    kept.push(row);
    size += row.length + 1;
  }
  return truncateText([meaning, [...head, ...kept].join("\n"), footer].join("\n\n"), CHECK_OUTPUT_MAX);
}

/**
 * The end of the failing step's log as a fenced block the log cannot close, within GitHub's 65,535
 * characters: 200 lines when they fit, fewer otherwise. Empty when there is no log to show.
 */
export function renderCheckRunText(run: RunRecord, log: string): string | undefined {
  const step = failingStep(run.steps);
  const stepName = step ? codeSpan(truncateText(singleLine(step.name), STEP_NAME_MAX)) : "the run";
  for (const wanted of TAIL_STEPS) {
    const lines = lastLines(log, wanted);
    if (lines.length === 0 || lines.every((line) => line.trim() === "")) return undefined;
    const what = lines.length === 1 ? "Last line" : `Last ${lines.length} lines`;
    const text = `${what} of ${stepName} (secrets masked):\n\n${codeBlock(lines.join("\n"))}\n`;
    if (text.length <= CHECK_OUTPUT_MAX) return text;
  }
  return undefined;
}

function actionsFor(run: RunRecord): CheckRunAction[] {
  if (run.state === "awaiting_approval")
    return [action(APPROVE_ACTION, "Approve", `Run this fork's commit ${run.event.sha.slice(0, 7)}`)];
  if (run.state === "waiting")
    return [action(DEPLOY_ACTION, "Deploy", `Deploy to ${singleLine(run.environment ?? run.pipeline)}`)];
  return [];
}

function action(identifier: string, label: string, description: string): CheckRunAction {
  return {
    identifier,
    label: truncateText(label, ACTION_LABEL_MAX),
    description: truncateText(description, ACTION_DESCRIPTION_MAX),
  };
}

const STEP_WORDS: Readonly<Record<StepState, string>> = {
  pending: "⏳ pending",
  running: "🔄 running",
  passed: "✅ passed",
  failed: "❌ failed",
  timed_out: "⏱️ timed out",
  cancelled: "🚫 cancelled",
  error: "⚠️ could not run",
  skipped: "⏭️ skipped",
};

function stepRow(step: StepRecord): string {
  const name = escapeMarkdown(truncateText(singleLine(step.name), STEP_NAME_MAX));
  const exit = step.state === "failed" && step.exitCode !== null ? ` (exit ${step.exitCode})` : "";
  const duration =
    step.startedAt && step.finishedAt
      ? formatDuration(step.finishedAt.getTime() - step.startedAt.getTime())
      : "";
  return `| ${step.index + 1} | ${name} | ${STEP_WORDS[step.state]}${exit} | ${duration} |`;
}

const stopped = () =>
  "The run was stopped before it finished; nothing in your pipeline failed. **Re-run** runs it again.";

/** One sentence per state: what it means and what the reader can do. */
const MEANING: Readonly<Record<RunState, (run: RunRecord) => string>> = {
  awaiting_approval: (run) =>
    `This commit comes from a fork, so it waits for a maintainer: someone with write access can click **Approve** above or comment ${codeSpan("/deploy-bot approve")}. Approval covers exactly commit ${codeSpan(run.event.sha.slice(0, 7))}.`,
  waiting: (run) =>
    `A manual deploy: it starts when someone with write access clicks **Deploy** above or comments ${codeSpan(
      `/deploy-bot deploy ${truncateText(singleLine(run.environment ?? "<environment>"), STEP_NAME_MAX)}`,
    )}.`,
  queued: () => "Queued: it starts when a worker is free and the pipelines it needs have passed.",
  running: () => "Running.",
  passed: () => "Passed.",
  failed: () =>
    "Your pipeline failed. The end of the failing step's log is below; the run page has all of it.",
  timed_out: () => "Your pipeline ran out of time. The end of the step's log is below.",
  skipped: () => "Not run, because a pipeline it needs did not pass. **Re-run** that one to run this again.",
  cancelled: stopped,
  superseded: () => "A newer commit replaced this one before the run finished; nothing failed.",
  interrupted: stopped,
  error: () =>
    "deploy-bot could not run this pipeline to the end: this is a problem of the bot or its setup, not a failure of your code. **Re-run** tries again.",
};
