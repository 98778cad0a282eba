/**
 * Reports runs to GitHub from the outbox: a commit status per run and, for pull requests, the one living
 * comment. The store enqueues a message in the same transaction as every change of runs (`enqueue-reports.ts`);
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
import type { PullRequestKey, SentReports } from "../store/sent-reports.ts";
import { type CommentUpserter, createCommentUpserter } from "./comment-upserter.ts";
import { describeGitHubFailure } from "./github-errors.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { failingStep, renderComment, TAIL_LINES } from "./render-comment.ts";
import { renderStatus, statusContext } from "./render-status.ts";
import {
  COMMENT_TOPIC,
  commentKey,
  parseCommentPayload,
  parseStatusPayload,
  STATUS_TOPIC,
} from "./report-messages.ts";

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
  /** Brings the PR's comment up to date with its newest delivery. */
  reportComment(pr: PullRequestKey): Promise<Delivered>;
  /** The outbox handlers, by topic. */
  readonly handlers: Readonly<
    Record<typeof STATUS_TOPIC | typeof COMMENT_TOPIC, (message: { payload: unknown }) => Promise<Delivered>>
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

  /**
   * Sends one differing status at a time, reading the runs again before each: writes queue behind GitHub's
   * write limit (~1/s), and a status computed before the wait may be stale by the time it could be sent.
   */
  async function sendStatuses(deliveryId: string): Promise<Delivered> {
    let octokit: OctokitLike | undefined;
    let refused: Delivered | undefined;
    const refusedRuns = new Set<string>();
    // Each write brings one run's status up to date; changes after the last read have their own message.
    let writesLeft: number | undefined;
    for (;;) {
      let read: Awaited<ReturnType<typeof dueStatuses>>;
      try {
        read = await dueStatuses(deliveryId);
      } catch (error) {
        return storeFailed(error, { deliveryId });
      }
      writesLeft ??= 2 * read.runs.length;
      const next = read.due.find(({ run }) => !refusedRuns.has(run.id));
      const event = read.runs[0]?.event; // none: pruned meanwhile, nothing left to report
      if (!event || !next || writesLeft <= 0) return refused ?? DELIVERED;
      writesLeft -= 1;
      if (event.installationId === undefined) {
        log.warn({ deliveryId }, "no installation id: cannot report to GitHub");
        return DELIVERED;
      }
      const { run, status } = next;
      const targetUrl = runUrl(run.id);
      try {
        octokit ??= await deps.octokitFor(event.installationId);
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
        const answer = gitHubFailed(error, { deliveryId, runId: run.id });
        // A transient failure stops here: the rest would most likely fail alike; the retry sends them all.
        if (!answer.ok && answer.retryable) return answer;
        refused ??= answer;
        refusedRuns.add(run.id);
        continue;
      }
      try {
        await deps.sent.recordStatusSent(run.id, status);
      } catch (error) {
        return storeFailed(error, { deliveryId, runId: run.id });
      }
    }
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

  /** Logs a failed GitHub call and tells the outbox whether (and when) to try again. */
  function gitHubFailed(error: unknown, context: object): Delivered {
    const f = describeGitHubFailure(error);
    const fields = { ...context, method: f.method, url: f.url, status: f.status, err: f.message };
    if (f.transient) {
      log.warn(fields, "GitHub call failed (transient); the outbox will try again");
      return {
        ok: false,
        retryable: true,
        error: f.message,
        ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
      };
    }
    log.error(fields, `GitHub answered ${f.status ?? "an error"}; not retrying`);
    return { ok: false, retryable: false, error: f.message };
  }

  function storeFailed(error: unknown, context: object): Delivered {
    log.warn({ ...context, err: String(error) }, "could not read or record what was reported");
    return { ok: false, retryable: true, error: String(error) };
  }

  const malformed: Delivered = { ok: false, retryable: false, error: "not a report message" };
  const reportStatuses = (deliveryId: string) =>
    serialised(`${STATUS_TOPIC} ${deliveryId}`, () => sendStatuses(deliveryId));
  const reportComment = (pr: PullRequestKey) =>
    serialised(`${COMMENT_TOPIC} ${commentKey(pr.repo, pr.prNumber)}`, () => sendComment(pr));
  return {
    reportStatuses,
    reportComment,
    handlers: {
      [STATUS_TOPIC]: async (message) => {
        const payload = parseStatusPayload(message.payload);
        return payload ? reportStatuses(payload.deliveryId) : malformed;
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
