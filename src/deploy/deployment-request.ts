/**
 * The bodies of the GitHub calls that make a run's Deployment (README, "Deployments"). Pure.
 * `POST /repos/{owner}/{repo}/deployments` and `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
 */
import type { PipelineConfig } from "../config/schema.ts";
import { renderStatus, STATUS_DESCRIPTION_MAX } from "../report/render-status.ts";
import { singleLine, truncateText } from "../report/truncate-text.ts";
import type { RunRecord } from "../runs/run.ts";
import type { WantedStatus } from "./deployment-state.ts";

/** GitHub's task name for a deploy (its default); tools reading Deployments filter on it. */
export const DEPLOY_TASK = "deploy";

export type DeploymentPayload = {
  readonly run_id: string;
  readonly pipeline: string;
  readonly delivery_id: string;
  /** For a rollback: the SHA being replaced. */
  readonly rollback_of?: string;
};

/** A type alias, not an interface: Octokit's parameters want an index signature. */
export type CreateDeploymentRequest = {
  readonly owner: string;
  readonly repo: string;
  readonly ref: string;
  readonly task: string;
  readonly auto_merge: false;
  readonly required_contexts: string[];
  readonly payload: DeploymentPayload;
  readonly environment: string;
  readonly description: string;
  readonly transient_environment: boolean;
  readonly production_environment: boolean;
};

/** `production` from the config, else whether the environment is named "production". */
export function isProduction(environment: string, pipeline: Pick<PipelineConfig, "production"> | undefined) {
  return pipeline?.production ?? environment.toLowerCase() === "production";
}

/** The deployment's description: "Rollback to 1a2b3c4" for a rollback, else what is deployed where. */
export function deploymentDescription(run: Pick<RunRecord, "pipeline" | "event" | "rollbackOf">): string {
  const short = run.event.sha.slice(0, 7);
  const text = run.rollbackOf ? `Rollback to ${short}` : `deploy-bot: ${run.pipeline} at ${short}`;
  return truncateText(singleLine(text), STATUS_DESCRIPTION_MAX);
}

/** Create-deployment parameters for a run of a pipeline with an environment. */
export function createDeploymentRequest(
  run: RunRecord & { readonly environment: string },
  pipeline: Pick<PipelineConfig, "production"> | undefined,
): CreateDeploymentRequest {
  return {
    owner: run.event.repo.owner,
    repo: run.event.repo.name,
    ref: run.event.sha,
    task: DEPLOY_TASK,
    auto_merge: false,
    // Without it GitHub refuses while commit statuses (ours among them) are pending.
    required_contexts: [],
    payload: {
      run_id: run.id,
      pipeline: run.pipeline,
      delivery_id: run.deliveryId,
      ...(run.rollbackOf ? { rollback_of: run.rollbackOf } : {}),
    },
    environment: run.environment,
    description: deploymentDescription(run),
    transient_environment: run.event.kind === "pull_request",
    production_environment: isProduction(run.environment, pipeline),
  };
}

export type CreateDeploymentStatusRequest = {
  readonly owner: string;
  readonly repo: string;
  readonly deployment_id: number;
  readonly state: WantedStatus["state"];
  readonly description: string;
  readonly log_url?: string;
  readonly environment_url?: string;
};

/** A deployment status for the run; `delivery` (the run's delivery) words "Waiting for test". */
export function createDeploymentStatusRequest(
  run: RunRecord,
  delivery: readonly RunRecord[],
  deploymentId: number,
  wanted: WantedStatus,
  runUrl: string | undefined,
  now: Date,
): CreateDeploymentStatusRequest {
  return {
    owner: run.event.repo.owner,
    repo: run.event.repo.name,
    deployment_id: deploymentId,
    state: wanted.state,
    description: renderStatus(run, delivery, now).description,
    ...(runUrl ? { log_url: runUrl } : {}),
    ...(wanted.environmentUrl ? { environment_url: wanted.environmentUrl } : {}),
  };
}
