/**
 * Which notifications a run's change sends. Pure: a run state becomes an outcome (or none), and each
 * configured notification's `on` and filters decide.
 *
 * | run state                                   | outcome     |
 * |---------------------------------------------|-------------|
 * | `running`                                   | `started`   |
 * | `passed`                                    | `succeeded` |
 * | `failed`, `timed_out`                       | `failed`    |
 * | `error`, `cancelled`, `interrupted`         | `error`     |
 * | `queued`, `awaiting_approval`, `superseded`, `skipped` | none: the run never ran (a newer commit replaced it, or the pipeline before it failed and said so) |
 */
import type { NotificationConfig, NotificationOutcome } from "../config/schema.ts";
import { listMatches } from "../match/pattern-list.ts";
import type { RunRecord, RunState } from "../runs/run.ts";

/** The notification outcome of a run in `state`, or undefined when that state tells nobody anything. */
export function notificationOutcome(state: RunState): NotificationOutcome | undefined {
  switch (state) {
    case "running":
      return "started";
    case "passed":
      return "succeeded";
    case "failed":
    case "timed_out":
      return "failed";
    case "error":
    case "cancelled":
    case "interrupted":
      return "error";
    default:
      return undefined;
  }
}

/** The run's fields that filters look at. */
export type MatchableRun = Pick<RunRecord, "pipeline" | "environment" | "event">;

/** The notifications (in config order) that `outcome` of `run` sends. */
export function matchNotifications(
  run: MatchableRun,
  outcome: NotificationOutcome,
  notifications: readonly NotificationConfig[],
): NotificationConfig[] {
  return notifications.filter((notification) => notificationMatches(notification, run, outcome));
}

function notificationMatches(
  notification: NotificationConfig,
  run: MatchableRun,
  outcome: NotificationOutcome,
): boolean {
  if (!notification.on.includes(outcome)) return false;
  if (notification.pipelines && !listMatches(notification.pipelines, run.pipeline)) return false;
  if (
    notification.environments &&
    (run.environment === null || !listMatches(notification.environments, run.environment))
  )
    return false;
  // Owner and repository names are case-insensitive on GitHub, as in rules' `repos`.
  if (notification.repos && !listMatches(notification.repos, run.event.repo.fullName, true)) return false;
  if (notification.branches) {
    const branch = run.event.branch;
    if (branch === undefined || !listMatches(notification.branches, branch)) return false;
  }
  return true;
}
