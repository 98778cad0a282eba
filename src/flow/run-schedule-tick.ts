/**
 * The scheduled half of the flow: a tick of a scheduled rule → still in the config? → skip while the same
 * pipelines are queued or running for the repository → resolve the branch head through the API →
 * `ScheduleEvent` → the same accept path as a webhook (`acceptEvent`: plan, record + queue, report).
 */
import type { Config } from "../config/schema.ts";
import { type DeployEvent, type Ignored, isIgnored } from "../events/deploy-event.ts";
import { scheduleEvent } from "../events/schedule-event.ts";
import type { BranchHead } from "../github/resolve-branch-head.ts";
import type { DeliveryMetrics } from "../observe/metrics.ts";
import {
  type ActiveRun,
  decideTick,
  type ScheduledTick,
  scheduledTicks,
  tickAt,
  tickDeliveryId,
} from "../runs/schedule-ticks.ts";
import type { Logger } from "../store/logger.ts";
import { type AcceptDeps, type AcceptResult, acceptEvent } from "./accept-delivery.ts";

export const SCHEDULE_EVENT = "schedule";

export interface TickDeps extends Omit<AcceptDeps, "listChangedFiles"> {
  /** The repository's unfinished runs of these pipelines. */
  readonly activeRuns: (repo: string, pipelines: readonly string[]) => Promise<ActiveRun[]>;
  /** The branch head (default branch when undefined) through the API; `Ignored` when there is none. */
  readonly branchHead: (repo: string, branch: string | undefined) => Promise<BranchHead | Ignored>;
  readonly logger: Pick<Logger, "info" | "warn">;
  readonly metrics: Pick<DeliveryMetrics, "delivery">;
}

/** Runs one fired tick; `firedAt` is when the queue engine filed it (the tick is the occurrence at or before). */
export async function runScheduleTick(
  deps: TickDeps,
  tick: ScheduledTick,
  firedAt: Date,
): Promise<AcceptResult> {
  const at = tickAt(tick.cron, firedAt);
  const deliveryId = tickDeliveryId(tick.rule, tick.repo, at);
  const log = { delivery: deliveryId, rule: tick.rule, repo: tick.repo };
  const result = await decide(deps, tick, at, deliveryId);
  if (result.outcome === "ignored")
    deps.logger.info({ ...log, reason: result.reason }, "schedule tick ignored");
  else deps.logger.info({ ...log, outcome: result.outcome }, `schedule tick ${result.outcome}`);
  deps.metrics.delivery(SCHEDULE_EVENT, result.outcome);
  return result;
}

async function decide(
  deps: TickDeps,
  tick: ScheduledTick,
  at: Date,
  deliveryId: string,
): Promise<AcceptResult> {
  const config = deps.config();
  // 1. A schedule left behind by an older config (another worker may not have restarted yet) runs nothing.
  const rule = config.rules.find((r) => r.name === tick.rule);
  if (!rule || !isCurrent(config, tick))
    return ignore(deps, deliveryId, tick, null, "the schedule is no longer in the config");

  // 2. No pile-up: a tick whose pipelines are still queued or running for the repository is skipped.
  const decision = decideTick(rule.run, await deps.activeRuns(tick.repo, rule.run));
  if (!decision.run) return ignore(deps, deliveryId, tick, null, decision.reason);

  // 3. The branch head at this moment, through the API: the tick runs at that exact commit.
  const head = await deps.branchHead(tick.repo, tick.branch);
  if (isIgnored(head)) return ignore(deps, deliveryId, tick, null, head.reason);

  // 4. The same path as a webhook from here on.
  const event = scheduleEvent({ deliveryId, rule: tick.rule, cron: tick.cron, tick: at, ...head });
  return acceptEvent({ ...deps, listChangedFiles: async () => event.changedFiles }, SCHEDULE_EVENT, event);
}

function isCurrent(config: Config, tick: ScheduledTick): boolean {
  return scheduledTicks(config).some(
    (t) =>
      t.rule === tick.rule &&
      t.repo.toLowerCase() === tick.repo.toLowerCase() &&
      t.branch === tick.branch &&
      t.cron === tick.cron,
  );
}

function ignore(
  deps: TickDeps,
  deliveryId: string,
  tick: ScheduledTick,
  event: DeployEvent | null,
  reason: string,
): AcceptResult {
  deps.recordIgnored({
    deliveryId,
    eventName: SCHEDULE_EVENT,
    event,
    repo: tick.repo,
    sha: null,
    outcome: "ignored",
    reason,
    runs: [],
  });
  return { outcome: "ignored", reason };
}
