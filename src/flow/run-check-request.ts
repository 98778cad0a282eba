/**
 * A request from the Checks tab, carried out (README, "Re-run and buttons"): find the runs it is about in the
 * store (by `external_id`, or every run at the suite's commit — a fork PR's check run names no pull request),
 * check who clicked through the API (write access, and `deployers`, exactly as the comment commands do),
 * decide (`runs/rerun-decisions.ts`), then record the request as a delivery together with the runs it starts
 * and the note for the pull request's one comment — one transaction, so a redelivered click does nothing twice.
 */
import type { Config } from "../config/schema.ts";
import type { CheckRequest } from "../events/normalise-check-request.ts";
import { collaboratorPermission } from "../github/collaborator-permission.ts";
import { escapeMarkdown } from "../report/escape-markdown.ts";
import { describeGitHubFailure } from "../report/github-errors.ts";
import type { OctokitLike } from "../report/octokit-like.ts";
import { canWrite, deployersProblem, isRefusal, type Refusal, refuse } from "../runs/command-decisions.ts";
import { decideButton, decideRerun, decideRerunAll, type Rerun } from "../runs/rerun-decisions.ts";
import type { RunRecord } from "../runs/run.ts";
import { shortSha } from "../runs/supersede-key.ts";
import type { CommandRuns } from "../store/command-runs.ts";
import type { Logger } from "../store/logger.ts";
import { COMMAND_FEEDBACK_TOPIC, type CommandFeedback } from "./command-feedback.ts";
import type { CommandOutcome } from "./run-command.ts";

export interface CheckRequestDeps {
  readonly config: () => Config;
  readonly octokitFor: (installationId: number) => Promise<OctokitLike>;
  readonly store: Pick<CommandRuns, "isKnownDelivery" | "runsAtSha" | "recordCommand" | "recordRerun"> & {
    getRun(id: string): Promise<RunRecord | null>;
  };
  /** Turns a PR's runs awaiting approval at exactly `sha` into queued runs (the Approve button). */
  readonly approveRuns: (repo: string, prNumber: number, sha: string) => Promise<RunRecord[]>;
  /** Schedules the GitHub report of a run; never throws. */
  readonly report: (run: RunRecord) => void;
  readonly logger: Pick<Logger, "warn">;
  /** After a request was recorded (its note is in the outbox): wake the drainer. */
  readonly onRecorded?: () => void;
}

/** Accepted (with the runs it started or released), refused (saying why), or a redelivery: as a command. */
export type CheckRequestOutcome = CommandOutcome;

/** What the request is about, as the store knows it. */
interface Subject {
  /** The clicked run; undefined for "Re-run all checks". */
  readonly target: RunRecord | undefined;
  /** Every run of the repository at the commit, oldest first (for a re-run; a button needs none). */
  readonly runsAtSha: readonly RunRecord[];
}

type Decision =
  | { readonly rerun: Rerun }
  | { readonly approve: { readonly prNumber: number; readonly sha: string } }
  | { readonly deploy: { readonly environment: string; readonly target: RunRecord } };

export async function runCheckRequest(
  deps: CheckRequestDeps,
  request: CheckRequest,
): Promise<CheckRequestOutcome> {
  // 1. A redelivered request did its work the first time.
  if (await deps.store.isKnownDelivery(request.deliveryId)) return { outcome: "duplicate" };

  // 2. The runs it is about: an id that is no run of this repository at this commit is refused.
  const subject = await subjectOf(deps.store, request);
  const what = requestName(request);
  const record = (
    reason: string,
    note: string,
    reaction: CommandFeedback["reaction"],
    shows: string | null,
  ) =>
    deps.store.recordCommand(
      {
        deliveryId: request.deliveryId,
        eventName: request.kind === "rerun-all" ? "check_suite" : "check_run",
        repo: request.repo.fullName,
        event: null,
        reason: `${what}: ${reason}`,
        runs: [],
      },
      () => feedbackFor(request, subject, reaction, note, shows),
    );
  const refused = async (refusal: Refusal): Promise<CheckRequestOutcome> => {
    const note = `😕 ${quote(request)} was refused: ${escapeMarkdown(refusal.refused)}.`;
    const recorded = await record(refusal.refused, note, "confused", null);
    if (recorded.duplicate) return { outcome: "duplicate" };
    deps.onRecorded?.();
    return { outcome: "refused", reason: refusal.refused };
  };
  if (isRefusal(subject)) return refused(subject);

  // 3. Who clicked: write access as GitHub says now, then what it does (deployers checked there).
  let decision: Decision | Refusal;
  try {
    const octokit = await deps.octokitFor(request.installationId);
    const permission = await collaboratorPermission(octokit, request.repo, request.sender);
    decision = canWrite(permission)
      ? decide(deps.config(), request, subject)
      : refuse(`@${request.sender} has ${permission.permission} access; ${what} needs write access`);
  } catch (error) {
    // GitHub could not be asked (after Octokit's retries): the bot broke, not the request; run nothing.
    const failure = describeGitHubFailure(error);
    deps.logger.warn(
      { delivery: request.deliveryId, err: failure.message },
      "could not check a check request",
    );
    decision = refuse(
      `the bot could not check it with GitHub (${failure.status ?? "no answer"}); click again`,
    );
  }
  if (isRefusal(decision)) return refused(decision);

  // 4. Carry it out and record it, with the note for the one comment.
  if ("approve" in decision) {
    const { prNumber, sha } = decision.approve;
    const runs = await deps.approveRuns(request.repo.fullName, prNumber, sha);
    const summary = `approved ${runs.length} ${runs.length === 1 ? "run" : "runs"} at ${shortSha(sha)}`;
    const recorded = await record(
      summary,
      `🚀 ${quote(request)}: ${summary}.`,
      "rocket",
      runs[0]?.deliveryId ?? null,
    );
    for (const run of runs) deps.report(run);
    if (!recorded.duplicate) deps.onRecorded?.();
    return { outcome: "accepted", runs, summary };
  }
  if ("deploy" in decision) {
    const { target, environment } = decision.deploy;
    const summary = `deploy ${target.pipeline} to ${environment} at ${shortSha(target.event.sha)}`;
    const recorded = await deps.store.recordCommand(
      {
        deliveryId: request.deliveryId,
        eventName: "check_run",
        repo: request.repo.fullName,
        event: { ...target.event, deliveryId: request.deliveryId, sender: request.sender },
        reason: `${what}: ${summary}`,
        startWaiting: { environment },
        runs: [],
      },
      (shows) => feedbackFor(request, subject, "rocket", `🚀 ${quote(request)}: ${summary}.`, shows),
    );
    if (recorded.duplicate) return { outcome: "duplicate" };
    deps.onRecorded?.();
    for (const run of recorded.runs) deps.report(run);
    return { outcome: "accepted", runs: recorded.runs, summary };
  }
  const at = shortSha(request.sha);
  const summary = `run ${decision.rerun.pipelines.join(", ")} again at ${at}`;
  const recorded = await deps.store.recordRerun(
    {
      deliveryId: request.deliveryId,
      eventName: request.kind === "rerun-all" ? "check_suite" : "check_run",
      repo: request.repo.fullName,
      sender: request.sender,
      reason: `${what}: ${summary}`,
      groups: decision.rerun.groups,
    },
    (shows) => feedbackFor(request, subject, "rocket", `🔁 ${quote(request)}: ${summary}.`, shows),
  );
  if (recorded.duplicate) return { outcome: "duplicate" };
  deps.onRecorded?.();
  for (const run of recorded.runs) deps.report(run);
  return { outcome: "accepted", runs: recorded.runs, summary };
}

async function subjectOf(
  store: CheckRequestDeps["store"],
  request: CheckRequest,
): Promise<Subject | Refusal> {
  const repo = request.repo.fullName;
  if (request.kind === "rerun-all") {
    const runsAtSha = await store.runsAtSha(repo, request.sha);
    if (runsAtSha.length === 0)
      return refuse(`deploy-bot ran nothing at ${shortSha(request.sha)} in ${repo}`);
    return { target: undefined, runsAtSha };
  }
  const target = await store.getRun(request.runId);
  if (
    !target ||
    target.event.repo.fullName.toLowerCase() !== repo.toLowerCase() ||
    target.event.sha !== request.sha
  )
    return refuse(`the check run names no deploy-bot run of ${repo} at ${shortSha(request.sha)}`);
  // A button concerns its run alone; a Re-run decides on everything at the commit.
  const runsAtSha =
    request.kind === "rerun" ? await store.runsAtSha(target.event.repo.fullName, request.sha) : [];
  return { target, runsAtSha };
}

function decide(config: Config, request: CheckRequest, subject: Subject): Decision | Refusal {
  const { target, runsAtSha } = subject;
  if (request.kind === "rerun-all" || target === undefined) {
    const rerun = decideRerunAll(config, runsAtSha, request.sha);
    return isRefusal(rerun) ? rerun : withDeployers(config, request.sender, rerun);
  }
  if (request.kind === "rerun") {
    const rerun = decideRerun(config, runsAtSha, target);
    return isRefusal(rerun) ? rerun : withDeployers(config, request.sender, rerun);
  }
  const button = decideButton(config, target, request.identifier, request.sender);
  if (isRefusal(button)) return button;
  return "approve" in button ? button : { deploy: { environment: button.deploy.environment, target } };
}

/** `deployers` hold for a re-run as for a deploy command: for every pipeline that runs without another click. */
function withDeployers(config: Config, login: string, rerun: Rerun): Decision | Refusal {
  const starts = rerun.groups.flatMap((group) =>
    group.runs.filter((run) => !run.manual).map((run) => run.pipeline),
  );
  const denied = deployersProblem(config, login, starts);
  return denied ? refuse(denied) : { rerun };
}

/** "Re-run of deploy-bot/test", "Re-run all checks", "Deploy button": how notes and the log name a request. */
function requestName(request: CheckRequest): string {
  if (request.kind === "rerun-all") return "Re-run all checks";
  if (request.kind === "rerun") return "Re-run";
  return `${request.identifier[0]?.toUpperCase()}${request.identifier.slice(1)} button`;
}

const quote = (request: CheckRequest) => `${requestName(request)} by ${escapeMarkdown(`@${request.sender}`)}`;

/**
 * The note goes to the one comment of the pull request (or issue) the runs report to; a commit no pull
 * request is about has no comment: the check runs themselves, the log and the deliveries table tell.
 */
function feedbackFor(
  request: CheckRequest,
  subject: Subject | Refusal,
  reaction: CommandFeedback["reaction"],
  note: string,
  shows: string | null,
) {
  const runs = isRefusal(subject) ? [] : subject.target ? [subject.target] : [...subject.runsAtSha].reverse();
  const issueNumber = runs
    .map((run) => (run.event.kind === "pull_request" ? run.event.prNumber : run.event.command?.issueNumber))
    .find((number) => number !== undefined);
  if (issueNumber === undefined) return [];
  return [
    {
      topic: COMMAND_FEEDBACK_TOPIC,
      key: request.deliveryId,
      payload: {
        installationId: request.installationId,
        owner: request.repo.owner,
        repo: request.repo.name,
        issueNumber,
        commentId: null,
        reaction,
        note,
        deliveryId: shows,
      } satisfies CommandFeedback,
    },
  ];
}
