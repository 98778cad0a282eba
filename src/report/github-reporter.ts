/**
 * Reports runs to GitHub from the outbox: a commit status (or, with `settings.checks`, a check run:
 * `send-check-runs.ts`) per run and, for pull requests, the one living comment. The store enqueues a message in the same transaction as every change of runs (`enqueue-reports.ts`);
 * the outbox drainer hands each one to these handlers, which:
 * - read the runs as they are now (never the state at the time of the change), so a burst of changes costs
 *   one report and an older state can never be sent after a newer one;
 * - send only what differs from what GitHub was last told, kept in the store (`store/sent-reports.ts`), so a
 *   retry or a restart does not send everything again;
 * - answer the outbox: transient failures (5xx, 429 or a rate-limited 403, network) are retried with its
 *   backoff (or after the `Retry-After` GitHub asked for), for as long as its retention allows; other 4xx
 *   are logged with method, URL and status and not retried.
 * Reports of one key are serialised in this process, so two drainer workers never interleave them.
 */
import { createHash } from "node:crypto";
import type { DeployEvent } from "../events/deploy-event.ts";
import type { Delivered } from "../outbox/drain-outbox.ts";
import type { RunRecord } from "../runs/run.ts";
import type { EnvironmentQueue } from "../store/environment-queue.ts";
import type { Logger } from "../store/logger.ts";
import type { SentCheckRuns } from "../store/sent-check-runs.ts";
import type { PullRequestKey, SentReports } from "../store/sent-reports.ts";
import { type CommentUpserter, createCommentUpserter } from "./comment-upserter.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { failingStep, renderComment, TAIL_LINES } from "./render-comment.ts";
import { renderStatus, statusContext } from "./render-status.ts";
import { reportFailures } from "./report-failures.ts";
import {
  CHECK_TOPIC,
  COMMENT_TOPIC,
  commentKey,
  parseCommentPayload,
  parseStatusPayload,
  STATUS_TOPIC,
} from "./report-messages.ts";
import { createCheckRunSender } from "./send-check-runs.ts";
import { sendOneAtATime } from "./send-one-at-a-time.ts";

export type { Delivered } from "../outbox/drain-outbox.ts";
export type { OctokitLike } from "./octokit-like.ts";

export interface ReporterDeps {
  /** An authenticated client for the installation (Probot: `app.auth(installationId)`). */
  octokitFor(installationId: number): Promise<OctokitLike>;
  /** Every run of a delivery, current state, in pipeline order. */
  runsForDelivery(deliveryId: string): Promise<RunRecord[]>;
  /** The last `lines` lines of a step's log, already masked. */
  logTail(runId: string, stepIndex: number, lines: number): Promise<string>;
  /** Who deploys to an environment now and who waits for it (shown for a queued deploy; default: nothing). */
  environmentQueue?(environment: string): Promise<EnvironmentQueue>;
  /** What GitHub was last told. */
  sent: SentReports;
  /** What GitHub was last told as check runs (`settings.checks: true`). */
  sentCheckRuns: SentCheckRuns;
  /** Status context prefix (`settings.statusContext`): contexts are `<statusContext>/<pipeline>`. */
  statusContext: string;
  /** `PUBLIC_URL`; when set, statuses and the comment link to `<publicUrl>/runs/<id>`. */
  publicUrl?: string | undefined;
  logger: Logger;
  /** The process's one comment upserter, shared with command feedback (default: a new one). */
  comments?: CommentUpserter;
  /** Fork approval wording shown in the comment. */
  approval?: { command: string; label: string };
  now?: () => Date;
}

export interface GitHubReporter {
  /** Sends the statuses of a delivery's runs that GitHub does not show yet. */
  reportStatuses(deliveryId: string): Promise<Delivered>;
  /** Creates or updates the check runs of a delivery's runs that GitHub does not show yet (`settings.checks`). */
  reportCheckRuns(deliveryId: string): Promise<Delivered>;
  /** Brings the PR's comment up to date with its newest delivery. */
  reportComment(pr: PullRequestKey): Promise<Delivered>;
  /** The outbox handlers, by topic. */
  readonly handlers: Readonly<
    Record<
      typeof STATUS_TOPIC | typeof CHECK_TOPIC | typeof COMMENT_TOPIC,
      (message: { payload: unknown }) => Promise<Delivered>
    >
  >;
}

const DELIVERED: Delivered = { ok: true };

/** Creates the reporter; it keeps nothing between reports but the writes in flight. */
export function createGitHubReporter(deps: ReporterDeps): GitHubReporter {
  const publicUrl = deps.publicUrl?.replace(/\/+$/, "");
  const runUrl = (runId: string): string | undefined =>
    publicUrl ? `${publicUrl}/runs/${encodeURIComponent(runId)}` : undefined;
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const comments = deps.comments ?? createCommentUpserter();
  const { gitHubFailed, storeFailed } = reportFailures(log);
  const sendCheckRuns = createCheckRunSender({
    octokitFor: deps.octokitFor,
    runsForDelivery: deps.runsForDelivery,
    logTail: deps.logTail,
    sent: deps.sentCheckRuns,
    statusContext: deps.statusContext,
    runUrl,
    failures: { gitHubFailed, storeFailed },
    logger: log,
    now,
  });
  const chains = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier report of `key` in this process has settled. */
  function serialised(key: string, fn: () => Promise<Delivered>): Promise<Delivered> {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn).catch((error: unknown): Delivered => {
      log.error({ key, err: String(error) }, "reporter crashed");
      return { ok: false, retryable: true, error: String(error) };
    });
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
    return next;
  }

  /** The statuses of a delivery's runs that differ from what GitHub was last told, rendered now. */
  async function dueStatuses(deliveryId: string) {
    const runs = await deps.runsForDelivery(deliveryId);
    const sent = await deps.sent.statusesSent(runs.map((run) => run.id));
    const at = now();
    const due = runs
      .map((run) => ({ run, status: renderStatus(run, runs, at) }))
      .filter(({ run, status }) => {
        const last = sent.get(run.id);
        return last?.state !== status.state || last.description !== status.description;
      });
    return { runs, due };
  }

  /** Sends the statuses that differ, one at a time (`send-one-at-a-time.ts`). */
  async function sendStatuses(deliveryId: string): Promise<Delivered> {
    let octokit: OctokitLike | undefined;
    return sendOneAtATime({
      deliveryId,
      readDue: () => dueStatuses(deliveryId),
      send: async ({ run, status }, installationId) => {
        const targetUrl = runUrl(run.id);
        try {
          octokit ??= await deps.octokitFor(installationId);
          await octokit.rest.repos.createCommitStatus({
            owner: run.event.repo.owner,
            repo: run.event.repo.name,
            sha: run.event.sha,
            state: status.state,
            description: status.description,
            context: statusContext(deps.statusContext, run.pipeline),
            ...(targetUrl ? { target_url: targetUrl } : {}),
          });
        } catch (error) {
          return gitHubFailed(error, { deliveryId, runId: run.id });
        }
        try {
          await deps.sent.recordStatusSent(run.id, status);
        } catch (error) {
          return storeFailed(error, { deliveryId, runId: run.id });
        }
        return DELIVERED;
      },
      storeFailed,
      logger: log,
    });
  }

  async function sendComment(pr: PullRequestKey): Promise<Delivered> {
    let runs: RunRecord[];
    let last: Awaited<ReturnType<SentReports["commentSent"]>>;
    try {
      const deliveryId = await deps.sent.newestDeliveryOf(pr);
      runs = deliveryId === undefined ? [] : await deps.runsForDelivery(deliveryId);
      last = await deps.sent.commentSent(pr);
    } catch (error) {
      return storeFailed(error, { pr: commentKey(pr.repo, pr.prNumber) });
    }
    const event = runs[0]?.event;
    // A pull request's runs, or runs a `/deploy-bot` command started there or on an issue.
    if (event === undefined || (event.kind !== "pull_request" && event.command === undefined))
      return DELIVERED;
    const fields = { deliveryId: event.deliveryId, pr: pr.prNumber };
    const body = renderComment({
      event,
      runs,
      tails: await logTails(runs),
      environmentQueues: await environmentQueues(runs),
      runUrl,
      now: now(),
      ...(deps.approval ? { approval: deps.approval } : {}),
    });
    const bodySha256 = createHash("sha256").update(body).digest("hex");
    if (last?.bodySha256 === bodySha256) return DELIVERED;
    if (event.installationId === undefined) {
      log.warn(fields, "no installation id: cannot report to GitHub");
      return DELIVERED;
    }
    let written: { outcome: string; id: number };
    try {
      const octokit = await deps.octokitFor(event.installationId);
      written = await comments.upsert(octokit, prRef(event, pr.prNumber), body, last?.commentId);
    } catch (error) {
      return gitHubFailed(error, fields);
    }
    log.debug?.({ ...fields, outcome: written.outcome }, "PR comment reported");
    try {
      await deps.sent.recordCommentSent(pr, { commentId: written.id, bodySha256 });
    } catch (error) {
      return storeFailed(error, fields);
    }
    return DELIVERED;
  }

  /** The queue of each environment a queued run waits for; a failed read only leaves the line out. */
  async function environmentQueues(runs: readonly RunRecord[]): Promise<Map<string, EnvironmentQueue>> {
    const queues = new Map<string, EnvironmentQueue>();
    const read = deps.environmentQueue;
    if (!read) return queues;
    for (const run of runs) {
      if (run.state !== "queued" || run.environment === null || queues.has(run.environment)) continue;
      try {
        queues.set(run.environment, await read(run.environment));
      } catch (error) {
        log.warn(
          { environment: run.environment, err: String(error) },
          "could not read an environment's queue",
        );
      }
    }
    return queues;
  }

  async function logTails(runs: readonly RunRecord[]): Promise<Map<string, string>> {
    const tails = new Map<string, string>();
    for (const run of runs) {
      if (run.state !== "failed" && run.state !== "timed_out") continue;
      const step = failingStep(run.steps);
      if (!step) continue;
      try {
        tails.set(run.id, await deps.logTail(run.id, step.index, TAIL_LINES));
      } catch (error) {
        log.warn({ runId: run.id, err: String(error) }, "could not read a log tail for the PR comment");
      }
    }
    return tails;
  }

  const malformed: Delivered = { ok: false, retryable: false, error: "not a report message" };
  const reportStatuses = (deliveryId: string) =>
    serialised(`${STATUS_TOPIC} ${deliveryId}`, () => sendStatuses(deliveryId));
  const reportCheckRuns = (deliveryId: string) =>
    serialised(`${CHECK_TOPIC} ${deliveryId}`, () => sendCheckRuns(deliveryId));
  const reportComment = (pr: PullRequestKey) =>
    serialised(`${COMMENT_TOPIC} ${commentKey(pr.repo, pr.prNumber)}`, () => sendComment(pr));
  return {
    reportStatuses,
    reportCheckRuns,
    reportComment,
    handlers: {
      [STATUS_TOPIC]: async (message) => {
        const payload = parseStatusPayload(message.payload);
        return payload ? reportStatuses(payload.deliveryId) : malformed;
      },
      [CHECK_TOPIC]: async (message) => {
        const payload = parseStatusPayload(message.payload);
        return payload ? reportCheckRuns(payload.deliveryId) : malformed;
      },
      [COMMENT_TOPIC]: async (message) => {
        const payload = parseCommentPayload(message.payload);
        return payload ? reportComment(payload) : malformed;
      },
    },
  };
}

function prRef(event: DeployEvent, number: number) {
  return { owner: event.repo.owner, repo: event.repo.name, number };
}
