/**
 * The one living PR comment: head SHA, a row per pipeline, log tails of failures, approval instructions for
 * forks. Pure; the reporter decides when to post it. Every piece of user-controlled text is escaped (inline
 * Markdown), put in a code span / fenced block (shown literally), or HTML-escaped (inside `<summary>`).
 */
import { formatDuration } from "../config/duration.ts";
import { APPROVAL_COMMAND, APPROVAL_LABEL } from "../events/approval.ts";
import type { DeployEvent } from "../events/deploy-event.ts";
import type { RunRecord, RunState, StepRecord } from "../runs/run.ts";
import type { EnvironmentQueue } from "../store/environment-queue.ts";
import { linkableEnvironmentUrl } from "./environment-link.ts";
import { environmentWaitLine } from "./environment-wait.ts";
import { escapeHtml } from "./escape-html.ts";
import { codeBlock, codeSpan, escapeMarkdown, markdownUrl, ZWSP } from "./escape-markdown.ts";
import { lastLines } from "./log-tail.ts";
import { renderStatus, runDurationMs } from "./render-status.ts";
import { singleLine, truncateText } from "./truncate-text.ts";

/** Hidden first line by which the bot finds its own comment again. */
export const COMMENT_MARKER = "<!-- deploy-bot:pr-comment -->";
/** GitHub rejects a comment body longer than this. */
export const COMMENT_MAX_CHARS = 65_536;
/** Lines of log shown per failed run, before shrinking for size. */
export const TAIL_LINES = 30;

export const DEFAULT_APPROVAL = { command: APPROVAL_COMMAND, label: APPROVAL_LABEL } as const;

export interface CommentInput {
  /** A pull request's event, or the event of runs a `/deploy-bot` command started (`event.command`). */
  readonly event: DeployEvent;
  /** The runs of the delivery being reported, in table order. */
  readonly runs: readonly RunRecord[];
  /** Masked log tail of the failing step, by run id (only failed/timed-out runs are looked up). */
  readonly tails: ReadonlyMap<string, string>;
  /** Link to the run page, or undefined when the server has no public URL. */
  readonly runUrl: (runId: string) => string | undefined;
  readonly now: Date;
  readonly approval?: { readonly command: string; readonly label: string };
  /** What the latest command did or why it was refused (Markdown, already safe), shown under the table. */
  readonly note?: string;
  /** The queue of each environment a queued run of `runs` deploys to (who deploys there now, who is next). */
  readonly environmentQueues?: ReadonlyMap<string, EnvironmentQueue>;
}

const EMOJI: Readonly<Record<RunState, string>> = {
  awaiting_approval: "🔒",
  waiting: "✋",
  queued: "⏳",
  running: "🔄",
  passed: "✅",
  failed: "❌",
  timed_out: "⏱️",
  cancelled: "🚫",
  superseded: "⏭️",
  interrupted: "⚠️",
  skipped: "⏭️",
  error: "⚠️",
};

const NAME_MAX = 100;
/** Room kept after the table for the approval text, notes and at least one small tail. */
const TABLE_RESERVE = 4_000;
/** Tail sizes tried in turn until the body fits; then tails are dropped with a note. */
const TAIL_STEPS = [TAIL_LINES, 10, 3] as const;

/**
 * The comment body, at most `COMMENT_MAX_CHARS` characters whatever the logs and names hold: tails shrink
 * first (30 → 10 → 3 lines), then are dropped with a note; with absurdly many pipelines the table is cut too.
 */
export function renderComment(input: CommentInput): string {
  const origin = commandLine(input.event);
  const head = [
    COMMENT_MARKER,
    "### deploy-bot",
    "",
    headline(input.event),
    ...(origin ? ["", origin] : []),
    "",
    ...table(input),
  ].join("\n");
  const extra = [approvalSection(input), queueSection(input), input.note].filter(
    (part) => part !== undefined,
  );
  const base = [head, ...extra].join("\n\n");
  const failures = input.runs.filter(
    (r) => (r.state === "failed" || r.state === "timed_out") && hasTail(input, r),
  );
  if (failures.length === 0) return `${base}\n`;
  for (const lines of TAIL_STEPS) {
    const tails = failures.map((run) => tailSection(run, input.tails.get(run.id) ?? "", lines));
    const body = `${base}\n\n${tails.join("\n\n")}\n`;
    if (body.length <= COMMENT_MAX_CHARS) return body;
  }
  const note = "_Log tails left out to keep this comment within GitHub's size limit; see the run pages._";
  return truncateText(`${base}\n\n${note}\n`, COMMENT_MAX_CHARS);
}

function hasTail(input: CommentInput, run: RunRecord): boolean {
  const tail = input.tails.get(run.id);
  return tail !== undefined && tail.trim() !== "";
}

/** The bot's one comment when there are no runs to show (a refused command on an issue): marker, title, note. */
export function renderNoteComment(note: string): string {
  return truncateText(`${[COMMENT_MARKER, "### deploy-bot", "", note].join("\n")}\n`, COMMENT_MAX_CHARS);
}

/** Who started these runs by command, and for a rollback what it replaces. */
function commandLine(event: DeployEvent): string | undefined {
  const command = event.command;
  if (!command) return undefined;
  const by = escapeMarkdown(`@${command.by}`);
  const started = `Started by ${by} with ${codeSpan(truncateText(singleLine(command.text), 200))}`;
  if (!command.rollbackOf) return `${started}.`;
  return `${started}: **Rollback to ${codeSpan(event.sha.slice(0, 7))}**, replacing ${codeSpan(command.rollbackOf.slice(0, 7))}.`;
}

function headline(event: DeployEvent): string {
  const short = event.sha.slice(0, 7);
  const web = repoWebUrl(event.repo.cloneUrl);
  const sha = web ? `[${codeSpan(short)}](${markdownUrl(`${web}/commit/${event.sha}`)})` : codeSpan(short);
  if (event.kind === "push") {
    const ref = event.branch ?? event.tag ?? event.ref;
    return ref === event.sha
      ? `Commit ${sha}`
      : `Commit ${sha} · ${codeSpan(truncateText(singleLine(ref), 200))}`;
  }
  if (event.kind === "schedule")
    return `Commit ${sha} · ${codeSpan(truncateText(singleLine(event.branch), 200))} · schedule`;
  const head = event.fork ? `${event.headRepoFullName}:${event.branch}` : event.branch;
  const branch = codeSpan(truncateText(singleLine(head), 200));
  const base = codeSpan(truncateText(singleLine(event.baseBranch), 200));
  return `Commit ${sha} · ${branch} → ${base}`;
}

/** `https://host/owner/name` from a clone URL, when it is an http(s) URL without credentials. */
function repoWebUrl(cloneUrl: string): string | undefined {
  try {
    const url = new URL(cloneUrl);
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password)
      return undefined;
    return `${url.origin}${url.pathname.replace(/\.git$/, "").replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

function table(input: CommentInput): string[] {
  const rows = ["| Pipeline | Status | Duration | Run |", "| --- | --- | --- | --- |"];
  let size = rows.join("\n").length;
  for (const [i, run] of input.runs.entries()) {
    const row = tableRow(input, run);
    if (size + row.length + 1 > COMMENT_MAX_CHARS - TABLE_RESERVE) {
      rows.push(`| … | ${input.runs.length - i} more pipelines not shown | | |`);
      break;
    }
    rows.push(row);
    size += row.length + 1;
  }
  return rows;
}

function tableRow(input: CommentInput, run: RunRecord): string {
  const name = escapeMarkdown(truncateText(singleLine(run.pipeline), NAME_MAX));
  const environment = run.environment ? ` (${environmentCell(run.environment, run.environmentUrl)})` : "";
  const status = renderStatus(run, input.runs, input.now);
  const duration = run.startedAt ? formatDuration(runDurationMs(run, input.now)) : "—";
  const url = input.runUrl(run.id);
  const link = url ? `[details](${markdownUrl(url)})` : "—";
  return `| ${name}${environment} | ${EMOJI[run.state]} ${escapeMarkdown(status.description)} | ${duration} | ${link} |`;
}

/** `staging`, or `[staging](https://…)` linking the environment URL a step reported. */
function environmentCell(environment: string, url: string | null | undefined): string {
  const name = escapeMarkdown(truncateText(singleLine(environment), NAME_MAX));
  const link = linkableEnvironmentUrl(url);
  return link ? `[${name}](${markdownUrl(link)})` : name;
}

/** A line per run waiting behind another run of its environment. */
function queueSection(input: CommentInput): string | undefined {
  const queues = input.environmentQueues;
  if (!queues) return undefined;
  const lines = input.runs.flatMap((run) => {
    const line = environmentWaitLine(
      run,
      run.environment ? queues.get(run.environment) : undefined,
      input.runUrl,
    );
    return line ? [line] : [];
  });
  return lines.length > 0 ? lines.join("\n") : undefined;
}

function approvalSection(input: CommentInput): string | undefined {
  if (!input.runs.some((r) => r.state === "awaiting_approval")) return undefined;
  const { command, label } = input.approval ?? DEFAULT_APPROVAL;
  const short = input.event.sha.slice(0, 7);
  return [
    `**🔒 Awaiting approval.** This pull request comes from a fork, so its pipelines wait for a maintainer.`,
    `Someone with write access to this repository can approve by adding the label ${codeSpan(label)} or by`,
    `commenting ${codeSpan(command)}. Approval covers exactly commit ${codeSpan(short)}: a new push needs a new`,
    "approval.",
  ].join("\n");
}

function tailSection(run: RunRecord, tail: string, lines: number): string {
  const shown = lastLines(tail, lines);
  const step = failingStep(run.steps);
  const what = step
    ? `${run.pipeline}: last ${shown.length} lines of ${step.name}`
    : `${run.pipeline}: last ${shown.length} lines`;
  const summary = escapeHtml(truncateText(singleLine(what), 300)).replace(/@/g, `@${ZWSP}`);
  return [
    `<details><summary>${EMOJI[run.state]} ${summary}</summary>`,
    "",
    codeBlock(shown.join("\n")),
    "",
    "</details>",
  ].join("\n");
}

/** The step whose log explains the failure: the failed or timed-out one, else the last one that started. */
export function failingStep(steps: readonly StepRecord[]): StepRecord | undefined {
  return (
    steps.find((s) => s.state === "failed" || s.state === "timed_out") ??
    steps.findLast((s) => s.startedAt !== null)
  );
}
