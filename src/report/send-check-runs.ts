/**
 * The check runs of a delivery's runs (`settings.checks: true`), brought up to date with the runs as they are
 * now: one check run per run, named `<statusContext>/<pipeline>`, `external_id` = the run id. Created when the
 * run is first reported, updated as it moves, and a new one when a completed check run's run becomes active
 * again (an approval, a manual deploy started); `plan-check-run-write.ts` decides which. A create whose answer
 * was lost is found again through `external_id` before a second one is made.
 */
import { createHash } from "node:crypto";
import type { Delivered } from "../outbox/drain-outbox.ts";
import type { RunRecord } from "../runs/run.ts";
import type { Logger } from "../store/logger.ts";
import type { SentCheckRuns } from "../store/sent-check-runs.ts";
import type { OctokitLike } from "./octokit-like.ts";
import { type CheckRunWrite, planCheckRunWrite } from "./plan-check-run-write.ts";
import { CHECK_TAIL_LINES, type RenderedCheckRun, renderCheckRun } from "./render-check-run.ts";
import { failingStep } from "./render-comment.ts";
import { statusContext } from "./render-status.ts";
import type { ReportFailures } from "./report-failures.ts";
import { sendOneAtATime } from "./send-one-at-a-time.ts";

export interface CheckRunDeps {
  octokitFor(installationId: number): Promise<OctokitLike>;
  runsForDelivery(deliveryId: string): Promise<RunRecord[]>;
  /** The last `lines` lines of a step's log, already masked. */
  logTail(runId: string, stepIndex: number, lines: number): Promise<string>;
  readonly sent: SentCheckRuns;
  readonly statusContext: string;
  runUrl(runId: string): string | undefined;
  readonly failures: ReportFailures;
  readonly logger: Pick<Logger, "warn">;
  now(): Date;
}

interface DueCheckRun {
  readonly run: RunRecord;
  readonly rendered: RenderedCheckRun;
  readonly bodySha256: string;
  readonly write: Exclude<CheckRunWrite, { kind: "none" }>;
}

/** Sends the check runs of a delivery's runs that differ from what GitHub shows. */
export function createCheckRunSender(deps: CheckRunDeps): (deliveryId: string) => Promise<Delivered> {
  /** `logs`: the failed runs' tails read so far in this round (a final run's log no longer changes). */
  async function readDue(deliveryId: string, logs: Map<string, string | undefined>) {
    const runs = await deps.runsForDelivery(deliveryId);
    const sent = await deps.sent.checkRunsSent(runs.map((run) => run.id));
    const at = deps.now();
    const due: DueCheckRun[] = [];
    for (const run of runs) {
      const rendered = renderCheckRun({
        run,
        delivery: runs,
        name: statusContext(deps.statusContext, run.pipeline),
        detailsUrl: deps.runUrl(run.id),
        log: logs.has(run.id) ? logs.get(run.id) : await failedLog(run, logs),
        now: at,
      });
      const bodySha256 = createHash("sha256").update(JSON.stringify(rendered)).digest("hex");
      const write = planCheckRunWrite(sent.get(run.id), { status: rendered.status, bodySha256 });
      if (write.kind !== "none") due.push({ run, rendered, bodySha256, write });
    }
    return { runs, due };
  }

  /** The failing step's masked log tail; a failed read only leaves `output.text` out. */
  async function failedLog(
    run: RunRecord,
    logs: Map<string, string | undefined>,
  ): Promise<string | undefined> {
    if (run.state !== "failed" && run.state !== "timed_out") return undefined;
    const step = failingStep(run.steps);
    if (!step) return undefined;
    try {
      const tail = await deps.logTail(run.id, step.index, CHECK_TAIL_LINES);
      logs.set(run.id, tail);
      return tail;
    } catch (error) {
      deps.logger.warn({ runId: run.id, err: String(error) }, "could not read a log tail for the check run");
      return undefined;
    }
  }

  async function send(octokit: OctokitLike, item: DueCheckRun): Promise<Delivered> {
    const { run, rendered, write } = item;
    const repo = { owner: run.event.repo.owner, repo: run.event.repo.name };
    const context = { deliveryId: run.deliveryId, runId: run.id };
    let checkRunId: number;
    try {
      if (write.kind === "update") {
        checkRunId = write.checkRunId;
        await octokit.rest.checks.update({ ...repo, check_run_id: checkRunId, ...updateFields(rendered) });
      } else {
        const found = write.kind === "find-or-create" ? await findLost(octokit, run, rendered, write) : null;
        if (found === null) {
          try {
            await deps.sent.markCreating(run.id, write.replaces);
          } catch (error) {
            return deps.failures.storeFailed(error, context);
          }
          const { data } = await octokit.rest.checks.create({
            ...repo,
            head_sha: run.event.sha,
            ...createFields(rendered),
          });
          checkRunId = data.id;
        } else {
          checkRunId = found;
          await octokit.rest.checks.update({ ...repo, check_run_id: checkRunId, ...updateFields(rendered) });
        }
      }
    } catch (error) {
      return deps.failures.gitHubFailed(error, context);
    }
    try {
      await deps.sent.recordCheckRunSent(run.id, {
        checkRunId,
        completed: rendered.status === "completed",
        bodySha256: item.bodySha256,
      });
    } catch (error) {
      return deps.failures.storeFailed(error, context);
    }
    return { ok: true };
  }

  return async (deliveryId) => {
    let octokit: OctokitLike | undefined;
    const logs = new Map<string, string | undefined>();
    return sendOneAtATime({
      deliveryId,
      readDue: () => readDue(deliveryId, logs),
      send: async (item, installationId) => {
        try {
          octokit ??= await deps.octokitFor(installationId);
        } catch (error) {
          return deps.failures.gitHubFailed(error, { deliveryId });
        }
        return send(octokit, item);
      },
      storeFailed: deps.failures.storeFailed,
      logger: deps.logger,
    });
  };
}

/** The check run an earlier, unconfirmed create made for this run (newest first), found by `external_id`. */
async function findLost(
  octokit: OctokitLike,
  run: RunRecord,
  rendered: RenderedCheckRun,
  write: { readonly replaces: number | null },
): Promise<number | null> {
  const { data } = await octokit.rest.checks.listForRef({
    owner: run.event.repo.owner,
    repo: run.event.repo.name,
    ref: run.event.sha,
    check_name: rendered.name,
    filter: "all",
    per_page: 100,
  });
  const ids = data.check_runs
    .filter((c) => c.external_id === run.id && (write.replaces === null || c.id > write.replaces))
    .map((c) => c.id);
  return ids.length > 0 ? Math.max(...ids) : null;
}

/** A create sends a button only when there is one. */
function createFields(rendered: RenderedCheckRun) {
  const { actions, ...rest } = rendered;
  return {
    ...rest,
    output: { ...rendered.output },
    ...(actions.length > 0 ? { actions: [...actions] } : {}),
  };
}

/** An update always sends `actions`: an empty list removes a button that no longer applies. */
function updateFields(rendered: RenderedCheckRun) {
  return { ...rendered, output: { ...rendered.output }, actions: [...rendered.actions] };
}
