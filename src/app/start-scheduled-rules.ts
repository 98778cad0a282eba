/** Wires scheduled rules: the config's schedules onto the queue engine, and each fired tick into the flow. */
import type { Config } from "../config/schema.ts";
import type { AcceptDeps } from "../flow/accept-delivery.ts";
import { runScheduleTick } from "../flow/run-schedule-tick.ts";
import { type BranchHeadClients, resolveBranchHead } from "../github/resolve-branch-head.ts";
import type { DeliveryMetrics } from "../observe/metrics.ts";
import { type Scheduler, startScheduler } from "../queue/schedule-jobs.ts";
import { scheduledTicks } from "../runs/schedule-ticks.ts";
import { activeRuns } from "../store/active-runs.ts";
import type { Logger } from "../store/logger.ts";
import type { RunStore } from "../store/run-store.ts";

export interface ScheduledRulesDeps extends Omit<AcceptDeps, "listChangedFiles" | "config"> {
  readonly config: Config;
  readonly store: RunStore;
  readonly github: BranchHeadClients;
  readonly logger: Logger;
  readonly metrics: Pick<DeliveryMetrics, "delivery">;
}

/** Whether the store's queue engine must run its cron pass for this config. */
export const hasScheduledRules = (config: Config): boolean => scheduledTicks(config).length > 0;

export function startScheduledRules(deps: ScheduledRulesDeps): Promise<Scheduler> {
  const { config, store, logger } = deps;
  const tickDeps = {
    config: () => config,
    record: deps.record,
    recordIgnored: deps.recordIgnored,
    report: deps.report,
    activeRuns: (repo: string, pipelines: readonly string[]) => activeRuns(store.db, repo, pipelines),
    branchHead: (repo: string, branch: string | undefined) => resolveBranchHead(deps.github, repo, branch),
    logger,
    metrics: deps.metrics,
  };
  return startScheduler(
    store.queueEngine,
    scheduledTicks(config),
    async (tick, firedAt) => {
      await runScheduleTick(tickDeps, tick, firedAt);
    },
    logger,
  );
}
