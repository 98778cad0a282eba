/**
 * The commit status for one run: what a user sees in the PR's checks list. Pure.
 *
 * | run state           | GitHub state | description                                                        |
 * |---------------------|--------------|--------------------------------------------------------------------|
 * | `awaiting_approval` | `error`      | `Awaiting approval: a maintainer must approve this fork's commit`  |
 * | `waiting`           | `pending`    | `Waiting for /deploy-bot deploy <environment>` (a `manual` pipeline) |
 * | `queued`            | `pending`    | `Waiting for <needs not passed yet>` or `Queued`                   |
 * | `running`           | `pending`    | `Running: <step> (<n>/<total>)` or `Running`                       |
 * | `passed`            | `success`    | `Passed in <duration>`                                             |
 * | `failed`            | `failure`    | `Failed: <detail>` (else `<step> exited with <code>`, else `Failed`) |
 * | `timed_out`         | `failure`    | `Timed out: <detail>` (else `<step> after <duration>`)             |
 * | `skipped`           | `error`      | `Skipped: <detail>` (else `<need> failed`, else `Skipped`)         |
 * | `superseded`        | `error`      | `Superseded by <detail, a SHA shortened to 7>`                     |
 * | `interrupted`       | `error`      | `Interrupted by a restart` or `Interrupted: <detail>`              |
 * | `cancelled`         | `error`      | `Cancelled` or `Cancelled: <detail>`                               |
 * | `error`             | `error`      | `<detail>` (e.g. `Checkout failed: …`) or `The bot could not run this pipeline` |
 *
 * A rollback started by `/deploy-bot rollback` says so first: `Rollback to 1a2b3c4: Passed in 12s`.
 * A detail that already starts with the prefix word (`Timed out: …`, `Superseded by …`) is used as is.
 * `failure` means the pipeline itself failed; `error` means the bot did not run it to the end.
 * Descriptions are one line of at most 140 characters.
 */
import { formatDuration } from "../config/duration.ts";
import type { RunRecord, RunState, StepRecord } from "../runs/run.ts";
import { singleLine, truncateText } from "./truncate-text.ts";

export type GitHubStatusState = "pending" | "success" | "failure" | "error";

export interface RenderedStatus {
  readonly state: GitHubStatusState;
  readonly description: string;
}

/** GitHub rejects longer descriptions. */
export const STATUS_DESCRIPTION_MAX = 140;
/** GitHub rejects longer contexts. */
export const STATUS_CONTEXT_MAX = 255;

export const AWAITING_APPROVAL_DESCRIPTION =
  "Awaiting approval: a maintainer must approve this fork's commit";

/** A waiting `manual` run's description: the command that starts it. */
export function waitingDescription(environment: string | null): string {
  return `Waiting for /deploy-bot deploy ${environment ?? "<environment>"}`;
}

/** The GitHub status state for a run state (see the table above). */
export function githubState(state: RunState): GitHubStatusState {
  switch (state) {
    case "waiting":
    case "queued":
    case "running":
      return "pending";
    case "passed":
      return "success";
    case "failed":
    case "timed_out":
      return "failure";
    default:
      return "error";
  }
}

/**
 * Status for `run`, given every run of the same delivery (to tell `Waiting for test` from `Queued`).
 * `now` is unused for final runs; it only keeps the signature the same as the other renderers.
 */
export function renderStatus(run: RunRecord, delivery: readonly RunRecord[], now: Date): RenderedStatus {
  const description = describe(run, delivery, now);
  const marked = run.rollbackOf ? `Rollback to ${run.event.sha.slice(0, 7)}: ${description}` : description;
  return {
    state: githubState(run.state),
    description: truncateText(singleLine(marked), STATUS_DESCRIPTION_MAX),
  };
}

/** Commit status context `<prefix>/<pipeline>`, cut to GitHub's 255 characters. */
export function statusContext(prefix: string, pipeline: string): string {
  return truncateText(singleLine(`${prefix}/${pipeline}`), STATUS_CONTEXT_MAX);
}

function describe(run: RunRecord, delivery: readonly RunRecord[], now: Date): string {
  const detail = run.detail?.trim() ? run.detail.trim() : null;
  switch (run.state) {
    case "awaiting_approval":
      return AWAITING_APPROVAL_DESCRIPTION;
    case "waiting":
      return waitingDescription(run.environment);
    case "queued": {
      const waiting = unmetNeeds(run, delivery);
      return waiting.length > 0 ? `Waiting for ${waiting.join(", ")}` : "Queued";
    }
    case "running": {
      const position = run.steps.findIndex((s) => s.state === "running");
      const step = run.steps[position];
      return step ? `Running: ${step.name} (${position + 1}/${run.steps.length})` : "Running";
    }
    case "passed":
      return `Passed in ${formatDuration(runDurationMs(run, now))}`;
    case "failed":
      return prefixed("Failed", detail ?? failedStepDetail(run.steps), "Failed");
    case "timed_out":
      return prefixed("Timed out", detail ?? timedOutStepDetail(run.steps), "Timed out");
    case "skipped":
      return prefixed("Skipped", detail ?? failedNeedDetail(run, delivery), "Skipped");
    case "superseded":
      return detail && /^superseded\b/i.test(detail)
        ? detail
        : `Superseded by ${detail ? shortenSha(detail) : "a newer commit"}`;
    case "interrupted":
      return prefixed("Interrupted", detail, "Interrupted by a restart");
    case "cancelled":
      return prefixed("Cancelled", detail, "Cancelled");
    case "error":
      return detail ?? "The bot could not run this pipeline";
  }
}

/** Milliseconds the run took (or has taken so far); from creation when it never started. */
export function runDurationMs(run: RunRecord, now: Date): number {
  const start = run.startedAt ?? run.createdAt;
  const end = run.finishedAt ?? now;
  return Math.max(0, end.getTime() - start.getTime());
}

/** Pipelines this run needs that have not passed yet, in the order of `needs`. */
export function unmetNeeds(run: RunRecord, delivery: readonly RunRecord[]): string[] {
  return run.needs.filter((need) => !delivery.some((r) => r.pipeline === need && r.state === "passed"));
}

function prefixed(prefix: string, detail: string | null, fallback: string): string {
  if (!detail) return fallback;
  return detail.toLowerCase().startsWith(prefix.toLowerCase()) ? detail : `${prefix}: ${detail}`;
}

function failedStepDetail(steps: readonly StepRecord[]): string | null {
  const step = steps.find((s) => s.state === "failed");
  if (!step) return null;
  return step.exitCode === null ? `${step.name} failed` : `${step.name} exited with ${step.exitCode}`;
}

function timedOutStepDetail(steps: readonly StepRecord[]): string | null {
  const step = steps.find((s) => s.state === "timed_out");
  if (!step) return null;
  if (!step.startedAt || !step.finishedAt) return step.name;
  return `${step.name} after ${formatDuration(step.finishedAt.getTime() - step.startedAt.getTime())}`;
}

const NEED_OUTCOME: Partial<Record<RunState, string>> = {
  failed: "failed",
  timed_out: "timed out",
  cancelled: "was cancelled",
  superseded: "was superseded",
  interrupted: "was interrupted",
  skipped: "was skipped",
  error: "could not run",
};

function failedNeedDetail(run: RunRecord, delivery: readonly RunRecord[]): string | null {
  for (const need of run.needs) {
    const other = delivery.find((r) => r.pipeline === need);
    const outcome = other ? NEED_OUTCOME[other.state] : undefined;
    if (outcome) return `${need} ${outcome}`;
  }
  return null;
}

function shortenSha(text: string): string {
  return /^[0-9a-f]{40}$/i.test(text) ? text.slice(0, 7) : text;
}
