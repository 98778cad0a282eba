/**
 * What GitHub's Deployment of a run should show, from the run's state alone. Pure.
 *
 * | run state                                                   | deployment status |
 * |-------------------------------------------------------------|-------------------|
 * | `awaiting_approval`, `waiting` (a manual run before its command) | — (no Deployment until it is queued) |
 * | `queued`                                                    | `queued`          |
 * | `running`                                                   | `in_progress`     |
 * | `passed`                                                    | `success`         |
 * | `failed`, `timed_out`                                       | `failure`         |
 * | `cancelled`, `superseded`, `interrupted`, `skipped`, `error` | `error`           |
 *
 * `failure` is GitHub's "the deployment failed" (your pipeline failed); `error` is "the deployment could not
 * be carried out", which is what a superseded, skipped, cancelled or interrupted deploy is: it never reached
 * the environment, or not to the end. `inactive` is GitHub's own: it marks older successful Deployments of
 * an environment inactive when a newer one succeeds. A run that ended before it ever started, while GitHub
 * has no Deployment for it yet (superseded or skipped before the Deployment was created), gets none.
 */
import type { RunRecord } from "../runs/run.ts";

export type DeploymentState = "queued" | "in_progress" | "success" | "failure" | "error";

/** The deployment status state for a run, or null while the run is not (yet) a deployment. */
export function deploymentStateOf(run: Pick<RunRecord, "state">): DeploymentState | null {
  switch (run.state) {
    case "awaiting_approval":
    case "waiting":
      return null;
    case "queued":
      return "queued";
    case "running":
      return "in_progress";
    case "passed":
      return "success";
    case "failed":
    case "timed_out":
      return "failure";
    case "cancelled":
    case "superseded":
    case "interrupted":
    case "skipped":
    case "error":
      return "error";
  }
}

export interface WantedStatus {
  readonly state: DeploymentState;
  /** An http(s) URL a step reported, or undefined. */
  readonly environmentUrl: string | undefined;
  /** Compared with the last status posted: a status is only posted when its key differs. */
  readonly key: string;
}

export interface DeploymentSync {
  /** GitHub has no Deployment of this run yet and should get one. */
  readonly create: boolean;
  /** The status to post, or null when GitHub already shows it (or there is nothing to show). */
  readonly status: WantedStatus | null;
}

/**
 * What to do to make GitHub's Deployment match the run: create it if missing (unless the run ended before it
 * started), then post the status if it differs from the last one posted.
 */
export function planDeploymentSync(
  run: Pick<RunRecord, "state" | "startedAt" | "environmentUrl">,
  known: { readonly deploymentId: number | null; readonly lastStatus: string | null } | null,
): DeploymentSync {
  const state = deploymentStateOf(run);
  const exists = known !== null && known.deploymentId !== null;
  if (state === null) return { create: false, status: null };
  if (!exists && run.startedAt === null && state === "error") return { create: false, status: null };
  const environmentUrl = run.environmentUrl ?? undefined;
  const key = `${state} ${environmentUrl ?? ""}`;
  const status = exists && known.lastStatus === key ? null : { state, environmentUrl, key };
  return { create: !exists, status };
}
