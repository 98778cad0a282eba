/**
 * The outbox handler of topic `deployment`: makes the GitHub Deployment of one run match the run's current
 * state — creates it if missing (and remembers its id), then posts the deployment status if it differs from the
 * last one posted (`deployment-state.ts` decides, `deployment-request.ts` words the calls).
 *
 * Exactly one Deployment per run: the store records that a create is about to be sent before sending it; when a
 * later try finds that mark without an id (the process died, or GitHub's answer was lost), it first looks for a
 * Deployment whose payload names the run before creating one.
 *
 * GitHub's answers: 5xx, 408, network errors and rate limits (429, or 403 with `retry-after` or an exhausted
 * `x-ratelimit-remaining`) are retried, after `Retry-After` / the rate-limit reset when GitHub says; every other
 * 4xx is permanent (422: GitHub refuses this ref or environment; 404: repository, or Deployment deleted on
 * GitHub, gone; 403: the App lacks `deployments: write`) and is logged, not retried.
 */
import type { PipelineConfig } from "../config/schema.ts";
import type { Delivered } from "../outbox/drain-outbox.ts";
import type { StoredOutboxMessage } from "../outbox/outbox.ts";
import type { OctokitLike } from "../report/octokit-like.ts";
import type { RunRecord } from "../runs/run.ts";
import type { Logger } from "../store/logger.ts";
import type { RunDeployments } from "../store/run-deployments.ts";
import { createDeploymentRequest, createDeploymentStatusRequest, DEPLOY_TASK } from "./deployment-request.ts";
import { planDeploymentSync } from "./deployment-state.ts";
import type { DeploymentMessage } from "./enqueue-deployments.ts";

export type DeploymentOctokit = Pick<OctokitLike, "rest">;

export interface SyncDeploymentDeps {
  readonly octokitFor: (installationId: number) => Promise<DeploymentOctokit>;
  /** Every run of a delivery, current state (the status words "Waiting for test"). */
  readonly runsForDelivery: (deliveryId: string) => Promise<RunRecord[]>;
  readonly deployments: RunDeployments;
  /** The pipeline's config now (for `production`); undefined when it left the config. */
  readonly pipeline: (name: string) => Pick<PipelineConfig, "production"> | undefined;
  /** The run page (`log_url`), or undefined without `PUBLIC_URL`. */
  readonly runUrl: (runId: string) => string | undefined;
  readonly logger: Pick<Logger, "info" | "warn">;
  readonly now?: () => Date;
}

export function createDeploymentHandler(deps: SyncDeploymentDeps) {
  return async (message: StoredOutboxMessage): Promise<Delivered> => {
    const { runId, deliveryId } = (message.payload ?? {}) as Partial<DeploymentMessage>;
    if (typeof runId !== "string" || typeof deliveryId !== "string")
      return { ok: false, retryable: false, error: "not a deployment message" };
    const delivery = await deps.runsForDelivery(deliveryId);
    const run = delivery.find((r) => r.id === runId);
    // Pruned meanwhile, or not a deploy: nothing to show.
    if (!run || run.environment === null) return { ok: true };
    const environment = run.environment;
    const installationId = run.event.installationId;
    if (installationId === undefined) return { ok: true };
    const known = await deps.deployments.get(runId);
    const plan = planDeploymentSync(run, known);
    if (!plan.create && !plan.status) return { ok: true };
    const octokit = await deps.octokitFor(installationId);

    let deploymentId = known?.deploymentId ?? null;
    if (deploymentId === null) {
      try {
        if (known?.createStarted) deploymentId = await findDeployment(octokit, run, environment);
        if (deploymentId === null) {
          await deps.deployments.markCreating(runId);
          const request = createDeploymentRequest({ ...run, environment }, deps.pipeline(run.pipeline));
          const { data } = await octokit.rest.repos.createDeployment(request);
          // 202 is GitHub's "merged the default branch first" (only with auto_merge, which we never ask for).
          if (!("id" in data) || typeof data.id !== "number")
            return { ok: false, retryable: false, error: "GitHub created no deployment" };
          deploymentId = data.id;
        }
        await deps.deployments.setDeploymentId(runId, deploymentId);
        deps.logger.info({ runId, deploymentId, environment }, "GitHub Deployment created");
      } catch (error) {
        return failed(deps, error, runId, "creating the Deployment");
      }
    }
    if (!plan.status) return { ok: true };
    try {
      await octokit.rest.repos.createDeploymentStatus(
        createDeploymentStatusRequest(
          run,
          delivery,
          deploymentId,
          plan.status,
          deps.runUrl(run.id),
          deps.now?.() ?? new Date(),
        ),
      );
    } catch (error) {
      return failed(deps, error, runId, `posting the deployment status ${plan.status.state}`);
    }
    await deps.deployments.setLastStatus(runId, plan.status.key);
    return { ok: true };
  };
}

/** The Deployment an earlier try created for this run, found by its payload's `run_id`. */
async function findDeployment(
  octokit: DeploymentOctokit,
  run: RunRecord,
  environment: string,
): Promise<number | null> {
  const { data } = await octokit.rest.repos.listDeployments({
    owner: run.event.repo.owner,
    repo: run.event.repo.name,
    sha: run.event.sha,
    environment,
    task: DEPLOY_TASK,
    per_page: 100,
  });
  for (const deployment of data) {
    let payload: unknown = deployment.payload;
    if (typeof payload === "string") {
      try {
        payload = JSON.parse(payload);
      } catch {
        continue;
      }
    }
    if ((payload as { run_id?: unknown } | null)?.run_id === run.id) return deployment.id;
  }
  return null;
}

/** A GitHub failure as the outbox's verdict: retry later (with GitHub's wait) or give up. */
export function deploymentFailure(error: unknown): Delivered & { ok: false } {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string | number | undefined> };
  };
  const status = typeof e.status === "number" ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  const message = (typeof e.message === "string" ? e.message : String(error)).split("\n")[0]!.slice(0, 300);
  const error_ = status === undefined ? message : `GitHub answered ${status}: ${message}`;
  const retryAfterMs = waitOf(headers);
  const rateLimited =
    status === 429 ||
    (status === 403 && (retryAfterMs !== undefined || String(headers["x-ratelimit-remaining"]) === "0"));
  const retryable = status === undefined || status >= 500 || status === 408 || rateLimited;
  return {
    ok: false,
    retryable,
    error: error_,
    ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** GitHub's own wait: `retry-after` seconds, else the rate limit's reset when it is exhausted. */
function waitOf(headers: Record<string, string | number | undefined>): number | undefined {
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0)
    return retryAfter * 1000;
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset))
    return Math.max(0, reset * 1000 - Date.now());
  return undefined;
}

function failed(deps: SyncDeploymentDeps, error: unknown, runId: string, what: string): Delivered {
  const verdict = deploymentFailure(error);
  deps.logger.warn({ runId, retryable: verdict.retryable, err: verdict.error }, `${what} failed`);
  return { ...verdict, error: `${what}: ${verdict.error}` };
}
