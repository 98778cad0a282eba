/**
 * A `/deploy-bot` command from a comment, carried out: react `eyes`, check who asks (through the API, never the
 * payload), read the commit it is about at this moment (a PR's head, an issue's ref resolved to an exact SHA),
 * decide (`runs/command-decisions.ts`), then record the command as a delivery together with the runs it starts
 * and the feedback to send (`rocket` or `confused`, and the bot's one comment on that issue or PR) — one
 * transaction, so a redelivered command does nothing twice and feedback is never lost.
 */
import type { Config } from "../config/schema.ts";
import { isCommitSha } from "../events/commit-sha.ts";
import type { CommandOrigin, DeployEvent, PullRequestEvent, PushEvent } from "../events/deploy-event.ts";
import type { CommentCommand } from "../events/normalise-comment.ts";
import { COMMAND_USAGE, type Command } from "../events/parse-command.ts";
import { collaboratorPermission } from "../github/collaborator-permission.ts";
import { codeSpan, escapeMarkdown } from "../report/escape-markdown.ts";
import { describeGitHubFailure } from "../report/github-errors.ts";
import type { OctokitLike } from "../report/octokit-like.ts";
import {
  canWrite,
  commandRun,
  decideRetry,
  decideRollback,
  deployersProblem,
  isRefusal,
  pipelineFor,
  type Refusal,
  refuse,
} from "../runs/command-decisions.ts";
import type { CommandRunInput } from "../runs/command-run.ts";
import type { RunRecord } from "../runs/run.ts";
import { shortSha } from "../runs/supersede-key.ts";
import type { CommandRuns } from "../store/command-runs.ts";
import type { Logger } from "../store/logger.ts";
import { COMMAND_FEEDBACK_TOPIC, type CommandFeedback } from "./command-feedback.ts";

export interface CommandDeps {
  readonly config: () => Config;
  readonly octokitFor: (installationId: number) => Promise<OctokitLike>;
  readonly store: Pick<CommandRuns, "isKnownDelivery" | "runsAtSha" | "deploysOf" | "recordCommand">;
  /** Schedules the GitHub report of a run; never throws. */
  readonly report: (run: RunRecord) => void;
  readonly logger: Pick<Logger, "info" | "warn">;
  /** After a command was recorded (its feedback is in the outbox): wake the drainer. */
  readonly onRecorded?: () => void;
}

export type CommandOutcome =
  | { readonly outcome: "accepted"; readonly runs: readonly RunRecord[]; readonly summary: string }
  | { readonly outcome: "refused"; readonly reason: string }
  | { readonly outcome: "duplicate" };

/** What a command decided, before it is recorded. */
type Decision =
  | Refusal
  | { readonly help: true }
  | {
      readonly event: DeployEvent;
      readonly runs: readonly CommandRunInput[];
      readonly startWaiting?: { readonly environment: string };
      readonly summary: string;
    };

export async function runCommand(deps: CommandDeps, command: CommentCommand): Promise<CommandOutcome> {
  if (await deps.store.isKnownDelivery(command.deliveryId)) return { outcome: "duplicate" };
  const octokit = await deps.octokitFor(command.installationId);
  const { owner, name } = command.repo;
  await octokit.rest.reactions
    .createForIssueComment({ owner, repo: name, comment_id: command.commentId, content: "eyes" })
    .catch((error: unknown) =>
      deps.logger.warn({ err: describeGitHubFailure(error).message }, "could not react"),
    );

  const decision = await decide(deps.config(), octokit, deps.store, command).catch((error: unknown) => {
    // GitHub could not be asked (after Octokit's retries): the bot broke, not the command; say so, run nothing.
    const failure = describeGitHubFailure(error);
    deps.logger.warn({ delivery: command.deliveryId, err: failure.message }, "could not check a command");
    return refuse(
      `the bot could not check it with GitHub (${failure.status ?? "no answer"}); comment the command again`,
    );
  });
  const feedback = (reaction: CommandFeedback["reaction"], note: string) => (deliveryId: string | null) => [
    {
      topic: COMMAND_FEEDBACK_TOPIC,
      key: command.deliveryId,
      payload: {
        installationId: command.installationId,
        owner,
        repo: name,
        issueNumber: command.issueNumber,
        commentId: command.commentId,
        reaction,
        note,
        deliveryId,
      } satisfies CommandFeedback,
    },
  ];
  const base = { deliveryId: command.deliveryId, repo: command.repo.fullName };
  if (isRefusal(decision) || "help" in decision) {
    const reason = isRefusal(decision) ? decision.refused : "help";
    const note = isRefusal(decision)
      ? `😕 ${quote(command)} was refused: ${escapeMarkdown(decision.refused)}.\n\n${validCommands()}`
      : helpText(command);
    const recorded = await deps.store.recordCommand(
      { ...base, event: null, reason: `${command.text}: ${reason}`, runs: [] },
      feedback(isRefusal(decision) ? "confused" : "rocket", note),
    );
    if (recorded.duplicate) return { outcome: "duplicate" };
    deps.onRecorded?.();
    return isRefusal(decision)
      ? { outcome: "refused", reason: decision.refused }
      : { outcome: "accepted", runs: [], summary: "help" };
  }

  // The note names the runs only once they exist; the comment's table links them.
  const recorded = await deps.store.recordCommand(
    {
      ...base,
      event: decision.event,
      reason: `${command.text}: ${decision.summary}`,
      runs: decision.runs,
      ...(decision.startWaiting ? { startWaiting: decision.startWaiting } : {}),
    },
    feedback("rocket", `🚀 ${quote(command)}: ${decision.summary}.`),
  );
  if (recorded.duplicate) return { outcome: "duplicate" };
  deps.onRecorded?.();
  for (const run of recorded.runs) deps.report(run);
  return { outcome: "accepted", runs: recorded.runs, summary: decision.summary };
}

/** The command as the note quotes it: a code span, and the login without mentioning anyone. */
const quote = (command: CommentCommand) =>
  `${codeSpan(command.text)} by ${escapeMarkdown(`@${command.sender}`)}`;

const validCommands = () => `Valid commands: ${COMMAND_USAGE.map((line) => codeSpan(line)).join(", ")}.`;

function helpText(command: CommentCommand): string {
  return [
    `ℹ️ ${quote(command)}: the commands are`,
    "",
    ...COMMAND_USAGE.map((line) => `- \`${line}\``),
    "",
    "`deploy` on a pull request deploys its head commit; on an issue give a branch, tag or SHA. Only users with write access (and, for a pipeline with `deployers`, only those) may run approve, deploy, retry and rollback.",
  ].join("\n");
}

type DecisionReads = Pick<CommandRuns, "runsAtSha" | "deploysOf">;

async function decide(
  config: Config,
  octokit: OctokitLike,
  store: DecisionReads,
  command: CommentCommand,
): Promise<Decision> {
  if ("refused" in command.parsed) return refuse(command.parsed.refused);
  const wanted: Command = command.parsed.command;
  if (wanted.name === "help") return { help: true };
  if (wanted.name === "approve")
    return refuse("approve works on pull requests from forks that await approval");

  // Who asks: write access as GitHub says now.
  const permission = await collaboratorPermission(octokit, command.repo, command.sender);
  if (!canWrite(permission))
    return refuse(
      `@${command.sender} has ${permission.permission} access; ${wanted.name} needs write access`,
    );

  switch (wanted.name) {
    case "deploy": {
      const target = pipelineFor(config, wanted.environment);
      if (isRefusal(target)) return target;
      const denied = deployersProblem(config, command.sender, [target.pipeline]);
      if (denied) return refuse(denied);
      const at = await commitFor(octokit, command, wanted.ref);
      if (isRefusal(at)) return at;
      return {
        event: at.event,
        runs: [commandRun(config, target.pipeline)],
        startWaiting: { environment: wanted.environment },
        summary: `deploy ${target.pipeline} to ${wanted.environment} at ${shortSha(at.event.sha)}`,
      };
    }
    case "retry": {
      if (!command.onPullRequest)
        return refuse("retry works on pull requests (it runs their head commit again)");
      const at = await commitFor(octokit, command, undefined);
      if (isRefusal(at)) return at;
      const runs = decideRetry(
        config,
        await store.runsAtSha(command.repo.fullName, at.event.sha),
        at.event.sha,
        wanted.pipeline,
      );
      if (isRefusal(runs)) return runs;
      const denied = deployersProblem(
        config,
        command.sender,
        runs.map((run) => run.pipeline),
      );
      if (denied) return refuse(denied);
      return {
        event: at.event,
        runs,
        summary: `run ${runs.map((run) => run.pipeline).join(", ")} again at ${shortSha(at.event.sha)}`,
      };
    }
    case "rollback": {
      const target = pipelineFor(config, wanted.environment);
      if (isRefusal(target)) return target;
      const denied = deployersProblem(config, command.sender, [target.pipeline]);
      if (denied) return refuse(denied);
      const deploys = await store.deploysOf(command.repo.fullName, wanted.environment);
      const rollback = decideRollback(config, wanted.environment, deploys);
      if (isRefusal(rollback)) return rollback;
      const origin: CommandOrigin = {
        text: command.text,
        by: command.sender,
        issueNumber: command.issueNumber,
        rollbackOf: rollback.rollbackOf,
      };
      return {
        event: commandPushEvent(command, rollback.sha, rollback.ref, origin),
        runs: [commandRun(config, rollback.pipeline)],
        summary: `roll ${wanted.environment} back to ${shortSha(rollback.sha)} (replacing ${shortSha(rollback.rollbackOf)})`,
      };
    }
  }
}

interface CommitAt {
  readonly event: DeployEvent;
}

/** The exact commit a command is about: a PR's head now (never a fork's), or an issue's ref resolved now. */
async function commitFor(
  octokit: OctokitLike,
  command: CommentCommand,
  ref: string | undefined,
): Promise<CommitAt | Refusal> {
  const { owner, name } = command.repo;
  const origin: CommandOrigin = { text: command.text, by: command.sender, issueNumber: command.issueNumber };
  if (command.onPullRequest) {
    if (ref !== undefined)
      return refuse(
        "on a pull request, deploy runs its head commit: leave out the ref (or comment on an issue)",
      );
    let pr: Awaited<ReturnType<OctokitLike["rest"]["pulls"]["get"]>>["data"];
    try {
      pr = (await octokit.rest.pulls.get({ owner, repo: name, pull_number: command.issueNumber })).data;
    } catch (error) {
      if (describeGitHubFailure(error).status === 404)
        return refuse(`pull request #${command.issueNumber} was not found`);
      throw error;
    }
    const headRepo = pr.head.repo;
    const fork =
      headRepo === null || headRepo.full_name.toLowerCase() !== command.repo.fullName.toLowerCase();
    if (fork) return refuse("this pull request comes from a fork: its code is never deployed by command");
    if (pr.state !== "open") return refuse(`pull request #${command.issueNumber} is ${pr.state}`);
    if (!isCommitSha(pr.head.sha)) return refuse("GitHub gave no commit for the pull request's head");
    const event: PullRequestEvent = {
      kind: "pull_request",
      action: "command",
      deliveryId: command.deliveryId,
      repo: command.repo,
      installationId: command.installationId,
      sha: pr.head.sha,
      ref: `refs/pull/${command.issueNumber}/head`,
      prNumber: command.issueNumber,
      branch: pr.head.ref,
      tag: undefined,
      baseBranch: pr.base.ref,
      title: pr.title,
      draft: pr.draft === true,
      fork: false,
      headRepoFullName: headRepo.full_name,
      labels: [],
      changedFiles: { known: false, reason: "started by a command" },
      sender: command.sender,
      command: origin,
    };
    return { event };
  }
  if (ref === undefined)
    return refuse("on an issue, say what to deploy: /deploy-bot deploy <environment> <branch, tag or SHA>");
  let sha: string;
  try {
    sha = (await octokit.rest.repos.getCommit({ owner, repo: name, ref })).data.sha;
  } catch (error) {
    const status = describeGitHubFailure(error).status;
    if (status === 404 || status === 422) return refuse(`no commit ${ref} in ${command.repo.fullName}`);
    throw error;
  }
  if (!isCommitSha(sha)) return refuse(`GitHub gave no commit for ${ref}`);
  // The checkout fetches this ref first, then the exact commit if the ref does not (or no longer) reach it.
  const fullRef = /^[0-9a-f]{7,40}$/i.test(ref) ? `refs/deploy-bot/commit/${sha}` : `refs/heads/${ref}`;
  return { event: commandPushEvent(command, sha, fullRef, origin) };
}

/** The event of runs a command starts at a commit that is not a pull request's head (an issue's ref, a rollback). */
function commandPushEvent(
  command: CommentCommand,
  sha: string,
  ref: string,
  origin: CommandOrigin,
): PushEvent {
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
  const tag = ref.startsWith("refs/tags/") ? ref.slice("refs/tags/".length) : undefined;
  return {
    kind: "push",
    action: "push",
    deliveryId: command.deliveryId,
    repo: command.repo,
    installationId: command.installationId,
    sha,
    ref,
    branch,
    tag,
    before: sha,
    fork: false,
    changedFiles: { known: false, reason: "started by a command" },
    sender: command.sender,
    command: origin,
  };
}
