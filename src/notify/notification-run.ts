/**
 * The one view of a run that both channels render: every field a notification shows, computed once and
 * masked once (secrets and tokens, exactly as logs are), so neither renderer can forget to. Pure.
 */
import type { NotificationOutcome } from "../config/schema.ts";
import { renderStatus } from "../report/render-status.ts";
import type { RunRecord, RunState, StepState } from "../runs/run.ts";
import { shortSha } from "../runs/supersede-key.ts";

export interface NotificationStep {
  readonly name: string;
  readonly state: StepState;
  readonly exit_code: number | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
}

export interface NotificationRun {
  readonly id: string;
  /** The run page, when `PUBLIC_URL` is set. */
  readonly url: string | null;
  readonly repository: string;
  readonly pipeline: string;
  readonly environment: string | null;
  readonly state: RunState;
  readonly outcome: NotificationOutcome;
  /** The commit status description (`Failed: Unit tests exited with 3`). */
  readonly description: string;
  readonly sha: string;
  readonly shortSha: string;
  readonly commitUrl: string;
  readonly ref: string;
  readonly branch: string | null;
  readonly tag: string | null;
  readonly prNumber: number | null;
  readonly prUrl: string | null;
  readonly event: string;
  readonly action: string;
  readonly sender: string;
  /** `push by alice`, `pull request #7 by alice`. */
  readonly trigger: string;
  readonly deliveryId: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Reported by a step (`environment_url=` in `DEPLOYBOT_OUTPUT`), when the run has one. */
  readonly environmentUrl: string | null;
  readonly steps: readonly NotificationStep[];
  /** The last lines of the failed step's log (already masked when stored; masked again here). */
  readonly logTail: readonly string[];
}

export interface NotificationContext {
  /** Base of run page links (`PUBLIC_URL`), without a trailing slash. */
  readonly publicUrl: string | undefined;
  /** `https://github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>`. */
  readonly githubWebUrl: string;
  /** Masks secrets and tokens in one piece of text (`maskText` with the server's secret values). */
  readonly mask: (text: string) => string;
}

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** Only http(s) URLs become links; anything else is dropped. */
const httpUrl = (url: unknown): string | null =>
  typeof url === "string" && /^https?:\/\/[^\s]+$/i.test(url) ? url : null;

/** Builds the masked view of `run` for `outcome`; `logTail` is the failed step's last lines, if any. */
export function notificationRun(
  run: RunRecord,
  outcome: NotificationOutcome,
  context: NotificationContext,
  logTail: readonly string[] = [],
): NotificationRun {
  const { event } = run;
  const m = context.mask;
  const repoUrl = `${context.githubWebUrl}/${event.repo.owner}/${event.repo.name}`;
  const prNumber = event.kind === "pull_request" ? event.prNumber : null;
  const durationMs =
    run.startedAt && run.finishedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : null;
  // The environment URL arrives with step outputs; read it defensively until every run carries it.
  const environmentUrl = httpUrl((run as { environmentUrl?: unknown }).environmentUrl);
  return {
    id: run.id,
    url: context.publicUrl ? `${context.publicUrl}/runs/${run.id}` : null,
    repository: m(event.repo.fullName),
    pipeline: m(run.pipeline),
    environment: run.environment === null ? null : m(run.environment),
    state: run.state,
    outcome,
    description: m(renderStatus(run, [run], run.finishedAt ?? run.startedAt ?? run.createdAt).description),
    sha: event.sha,
    shortSha: shortSha(event.sha),
    commitUrl: `${repoUrl}/commit/${event.sha}`,
    ref: m(event.ref),
    branch: event.branch === undefined ? null : m(event.branch),
    tag: event.tag === undefined ? null : m(event.tag),
    prNumber,
    prUrl: prNumber === null ? null : `${repoUrl}/pull/${prNumber}`,
    event: event.kind,
    action: event.action,
    sender: m(event.sender),
    trigger: m(triggerText(run)),
    deliveryId: run.deliveryId,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs,
    environmentUrl: environmentUrl === null ? null : m(environmentUrl),
    steps: run.steps.map((step) => ({
      name: m(step.name),
      state: step.state,
      exit_code: step.exitCode,
      started_at: iso(step.startedAt),
      finished_at: iso(step.finishedAt),
    })),
    logTail: logTail.map(m),
  };
}

function triggerText(run: RunRecord): string {
  const { event } = run;
  if (event.kind === "pull_request") return `pull request #${event.prNumber} by ${event.sender}`;
  if (event.kind === "push") {
    return event.tag !== undefined
      ? `push of tag ${event.tag} by ${event.sender}`
      : `push by ${event.sender}`;
  }
  // Events added later (commands, rollbacks, schedules) are named by their kind.
  return `${String((event as { kind: unknown }).kind)} by ${String((event as { sender: unknown }).sender)}`;
}

/** The step whose log tail a notification shows: the one that failed or timed out. */
export function failedStepIndex(run: RunRecord): number | undefined {
  return run.steps.find((step) => step.state === "failed" || step.state === "timed_out")?.index;
}
