/**
 * Reports runs to GitHub: a commit status per run and, for pull requests, the one living comment.
 *
 * `runChanged` is fire-and-forget: it only schedules. Reports are per delivery (every run of the webhook at
 * once, read fresh from the store), coalesced so a run makes a handful of calls, not one per step:
 * - the first change of a delivery and every final state are reported at once;
 * - other changes wait `debounceMs` (one report per window, never postponed forever by a stream of changes);
 * - a change while a report is in flight triggers exactly one more report after it;
 * - a status is only sent when its (state, description) differs from the last one sent for that run, and the
 *   comment only when its body changed.
 * GitHub failures never reach the caller. Transient ones (5xx, rate limits, network) are first retried by
 * Octokit (see `octokit-options.ts`), then the reporter reports the delivery again later with exponential
 * backoff, `retry.attempts` times, so the final status is delivered eventually. 4xx answers are logged with
 * method, URL and status and not retried.
 */
import type { DeployEvent } from "../events/deploy-event.ts";
import { FINAL_RUN_STATES, type RunRecord } from "../runs/run.ts";
import { type CommentUpserter, createCommentUpserter } from "./comment-upserter.ts";
import { describeGitHubFailure } from "./github-errors.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { failingStep, renderComment, TAIL_LINES } from "./render-comment.ts";
import { renderStatus, statusContext } from "./render-status.ts";

export type { OctokitLike } from "./octokit-like.ts";

export interface ReporterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ReporterDeps {
  /** An authenticated client for the installation (Probot: `app.auth(installationId)`). */
  octokitFor(installationId: number): Promise<OctokitLike>;
  /** Every run of a delivery, current state, in pipeline order. */
  runsForDelivery(deliveryId: string): Promise<RunRecord[]>;
  /** The last `lines` lines of a step's log, already masked. */
  logTail(runId: string, stepIndex: number, lines: number): Promise<string>;
  /** Status context prefix (`settings.statusContext`): contexts are `<statusContext>/<pipeline>`. */
  statusContext: string;
  /** `PUBLIC_URL`; when set, statuses and the comment link to `<publicUrl>/runs/<id>`. */
  publicUrl?: string;
  logger: ReporterLogger;
  /** Coalescing window for non-final changes; default 300 ms. */
  debounceMs?: number;
  /** The reporter's own retry after Octokit gave up; default 6 attempts, 2 s doubling (≈ 2 min in all). */
  retry?: { attempts?: number; baseDelayMs?: number };
  /**
   * How long a delivery whose runs are all final and sent is remembered (default 60 s): a late echo of a change
   * already reported (a step's progress landing after the run's end, a redelivery) then sends nothing again.
   */
  forgetAfterMs?: number;
  /** The process's one comment upserter, shared with command feedback (default: a new one). */
  comments?: CommentUpserter;
  /** Fork approval wording shown in the comment. */
  approval?: { command: string; label: string };
}

export interface GitHubReporter {
  /** Schedules a report of the run's delivery. Never throws, never waits. */
  runChanged(run: RunRecord): void;
  /** Resolves once everything scheduled so far (including pending debounces and retries) has been sent. */
  flush(): Promise<void>;
}

interface DeliveryState {
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  again: boolean;
  failures: number;
  retryWait: Promise<void> | undefined;
  /** Set once everything is final and sent: forgets the delivery after `forgetAfterMs` of quiet. */
  forget: NodeJS.Timeout | undefined;
}

interface ReportResult {
  readonly transient: boolean;
  readonly done: boolean;
  readonly runIds: readonly string[];
}

/** Creates the reporter; one per process (it keeps what was last sent in memory). */
export function createGitHubReporter(deps: ReporterDeps): GitHubReporter {
  const debounceMs = deps.debounceMs ?? 300;
  const forgetAfterMs = deps.forgetAfterMs ?? 60_000;
  const attempts = deps.retry?.attempts ?? 6;
  const baseDelayMs = deps.retry?.baseDelayMs ?? 2000;
  const publicUrl = deps.publicUrl?.replace(/\/+$/, "");
  const runUrl = (runId: string): string | undefined =>
    publicUrl ? `${publicUrl}/runs/${encodeURIComponent(runId)}` : undefined;
  const log = deps.logger;

  const deliveries = new Map<string, DeliveryState>();
  /** `state\ndescription` last sent, by run id. */
  const lastSent = new Map<string, string>();
  /** Newest delivery seen per PR: an older delivery must not overwrite the comment of a newer head. */
  const newestByPr = new Map<string, { deliveryId: string; createdAt: number }>();
  const comments = deps.comments ?? createCommentUpserter();

  function start(deliveryId: string): void {
    const state = deliveries.get(deliveryId);
    if (!state) return;
    if (state.timer) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = (async () => {
      let result: ReportResult;
      do {
        state.again = false;
        result = await reportOnce(deliveryId);
      } while (state.again);
      settle(deliveryId, state, result);
    })()
      .catch((error: unknown) => log.error({ deliveryId, err: String(error) }, "reporter crashed"))
      .finally(() => {
        state.running = undefined;
      });
  }

  function settle(deliveryId: string, state: DeliveryState, result: ReportResult): void {
    if (result.transient) {
      state.failures += 1;
      if (state.failures > attempts) {
        log.error({ deliveryId, attempts }, "giving up reporting this delivery to GitHub");
        state.failures = 0;
        return;
      }
      const delay = baseDelayMs * 2 ** (state.failures - 1);
      log.warn({ deliveryId, attempt: state.failures, delayMs: delay }, "will report this delivery again");
      state.retryWait = new Promise((resolve) => {
        setTimeout(() => {
          state.retryWait = undefined;
          start(deliveryId);
          resolve();
        }, delay);
      });
      return;
    }
    state.failures = 0;
    if (result.done && !state.timer && !state.retryWait) {
      // Everything final and delivered: forget it after a quiet spell. Forgetting at once would make an echo
      // arriving a moment later (the worker's last step report racing the run's end) send the final status twice.
      clearTimeout(state.forget);
      state.forget = setTimeout(() => {
        if (deliveries.get(deliveryId) !== state || state.timer || state.running || state.retryWait) return;
        deliveries.delete(deliveryId);
        for (const id of result.runIds) lastSent.delete(id);
      }, forgetAfterMs);
      state.forget.unref();
    }
  }

  async function reportOnce(deliveryId: string): Promise<ReportResult> {
    let runs: RunRecord[];
    try {
      runs = await deps.runsForDelivery(deliveryId);
    } catch (error) {
      log.warn({ deliveryId, err: String(error) }, "could not read the runs of a delivery");
      return { transient: true, done: false, runIds: [] };
    }
    const first = runs[0];
    if (!first) return { transient: false, done: true, runIds: [] };
    const runIds = runs.map((r) => r.id);
    const done = runs.every((r) => FINAL_RUN_STATES.has(r.state));
    const event = first.event;
    if (event.installationId === undefined) {
      log.warn({ deliveryId }, "no installation id: cannot report to GitHub");
      return { transient: false, done, runIds };
    }
    let octokit: OctokitLike;
    try {
      octokit = await deps.octokitFor(event.installationId);
    } catch (error) {
      return { transient: failed(error, deliveryId), done, runIds };
    }
    const now = new Date();
    let transient = false;
    for (const run of runs) {
      const status = renderStatus(run, runs, now);
      const key = `${status.state}\n${status.description}`;
      if (lastSent.get(run.id) === key) continue;
      const targetUrl = runUrl(run.id);
      try {
        await octokit.rest.repos.createCommitStatus({
          owner: run.event.repo.owner,
          repo: run.event.repo.name,
          sha: run.event.sha,
          state: status.state,
          description: status.description,
          context: statusContext(deps.statusContext, run.pipeline),
          ...(targetUrl ? { target_url: targetUrl } : {}),
        });
        lastSent.set(run.id, key);
      } catch (error) {
        transient = failed(error, deliveryId) || transient;
      }
    }
    // Pull requests, and issues where a command started the runs, have the bot's one comment.
    const commentOn =
      event.command?.issueNumber ?? (event.kind === "pull_request" ? event.prNumber : undefined);
    if (commentOn !== undefined) {
      try {
        await reportComment(octokit, deliveryId, event, commentOn, runs, now);
      } catch (error) {
        transient = failed(error, deliveryId) || transient;
      }
    }
    return { transient, done, runIds };
  }

  async function reportComment(
    octokit: OctokitLike,
    deliveryId: string,
    event: DeployEvent,
    number: number,
    runs: readonly RunRecord[],
    now: Date,
  ): Promise<void> {
    const prKey = `${event.repo.fullName}#${number}`.toLowerCase();
    const createdAt = Math.min(...runs.map((r) => r.createdAt.getTime()));
    const newest = newestByPr.get(prKey);
    if (newest && newest.deliveryId !== deliveryId && newest.createdAt > createdAt) {
      log.debug({ deliveryId, newer: newest.deliveryId }, "not commenting for an older head of this PR");
      return;
    }
    newestByPr.set(prKey, { deliveryId, createdAt });
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
    const body = renderComment({
      event,
      runs,
      tails,
      runUrl,
      now,
      ...(deps.approval ? { approval: deps.approval } : {}),
    });
    const outcome = await comments.upsert(
      octokit,
      { owner: event.repo.owner, repo: event.repo.name, number },
      body,
    );
    log.debug({ deliveryId, pr: number, outcome }, "PR comment reported");
  }

  /** Logs a failed GitHub call; true when it is worth retrying. */
  function failed(error: unknown, deliveryId: string): boolean {
    const f = describeGitHubFailure(error);
    const fields = { deliveryId, method: f.method, url: f.url, status: f.status, err: f.message };
    if (f.transient) log.warn(fields, "GitHub call failed (transient)");
    else log.error(fields, `GitHub answered ${f.status ?? "an error"}; not retrying`);
    return f.transient;
  }

  return {
    runChanged(run) {
      try {
        let state = deliveries.get(run.deliveryId);
        const first = state === undefined;
        if (!state) {
          state = {
            timer: undefined,
            running: undefined,
            again: false,
            failures: 0,
            retryWait: undefined,
            forget: undefined,
          };
          deliveries.set(run.deliveryId, state);
        }
        clearTimeout(state.forget);
        state.forget = undefined;
        if (first || FINAL_RUN_STATES.has(run.state)) {
          start(run.deliveryId);
        } else if (!state.timer) {
          state.timer = setTimeout(() => {
            const s = deliveries.get(run.deliveryId);
            if (s) s.timer = undefined;
            start(run.deliveryId);
          }, debounceMs);
        }
      } catch (error) {
        log.error({ runId: run.id, err: String(error) }, "could not schedule a GitHub report");
      }
    },

    async flush() {
      for (;;) {
        const waits: Promise<void>[] = [];
        for (const [id, state] of deliveries) {
          if (state.timer) start(id);
          if (state.running) waits.push(state.running);
          if (state.retryWait) waits.push(state.retryWait);
        }
        if (waits.length === 0) return;
        await Promise.allSettled(waits);
      }
    },
  };
}
