/** A scheduled tick, once its repository and branch head have been resolved through the API → `ScheduleEvent`. */
import type { RepoRef, ScheduleEvent } from "./deploy-event.ts";

export interface ResolvedTick {
  readonly deliveryId: string;
  readonly rule: string;
  readonly cron: string;
  readonly tick: Date;
  readonly repo: RepoRef;
  readonly installationId: number | undefined;
  readonly branch: string;
  /** The branch's head commit at the tick. */
  readonly sha: string;
}

export function scheduleEvent(tick: ResolvedTick): ScheduleEvent {
  return {
    kind: "schedule",
    action: "schedule",
    deliveryId: tick.deliveryId,
    repo: tick.repo,
    installationId: tick.installationId,
    sha: tick.sha,
    ref: `refs/heads/${tick.branch}`,
    branch: tick.branch,
    tag: undefined,
    fork: false,
    rule: tick.rule,
    cron: tick.cron,
    tick: tick.tick.toISOString(),
    changedFiles: { known: false, reason: "a scheduled tick has no changes" },
    sender: "",
  };
}
