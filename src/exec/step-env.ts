/**
 * The environment a step sees (README, "What a step sees"): an allow-list, never the server's
 * environment. Steps are started with `extendEnv: false` so nothing else leaks in.
 */
import type { DeployEvent } from "../events/deploy-event.ts";

/** The only variables taken from the server's environment. */
export const SERVER_ENV_ALLOW_LIST = ["PATH", "HOME", "LANG"] as const;

/** Used when the server has no PATH at all, so `bash` and coreutils are still found. */
export const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface RunIdentity {
  readonly id: string;
  readonly pipeline: string;
  readonly environment?: string | null;
}

/**
 * All `DEPLOYBOT_*` variables for one run. Event values reach a step only this way — as environment
 * values, never spliced into command text — so a branch named `$(rm -rf ~)` stays a string.
 */
export function deployBotVars(event: DeployEvent, run: RunIdentity): Record<string, string> {
  const vars: Record<string, string> = {
    DEPLOYBOT_EVENT: event.kind,
    DEPLOYBOT_ACTION: event.action,
    DEPLOYBOT_REPO: event.repo.fullName,
    DEPLOYBOT_SHA: event.sha,
    DEPLOYBOT_REF: event.ref,
    DEPLOYBOT_PIPELINE: run.pipeline,
    DEPLOYBOT_RUN_ID: run.id,
    DEPLOYBOT_DELIVERY_ID: event.deliveryId,
  };
  if (event.branch !== undefined) vars.DEPLOYBOT_BRANCH = event.branch;
  if (event.kind === "pull_request") {
    vars.DEPLOYBOT_BASE_BRANCH = event.baseBranch;
    vars.DEPLOYBOT_PR_NUMBER = String(event.prNumber);
  }
  if (run.environment) vars.DEPLOYBOT_ENVIRONMENT = run.environment;
  return vars;
}

export interface StepEnvOptions {
  readonly serverEnv: NodeJS.ProcessEnv;
  /** `DEPLOYBOT_*` (see {@link deployBotVars}). */
  readonly vars: Record<string, string>;
  readonly pipelineEnv?: Record<string, string>;
  readonly stepEnv?: Record<string, string>;
  /** Declared secrets, already resolved to values. */
  readonly secrets: Record<string, string>;
  /** Only for `deploy-bot run --env-from-server`: a whole environment passed through, lowest precedence. */
  readonly passThroughEnv?: NodeJS.ProcessEnv;
}

/**
 * The complete environment of one step. Precedence, later wins: allow-listed server variables and
 * `CI=true`, the pipeline's `env`, the step's `env`, declared secrets, then `DEPLOYBOT_*` — last, so a
 * step can trust them to describe the run.
 */
export function buildStepEnv(options: StepEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.passThroughEnv ?? {}))
    if (value !== undefined) env[name] = value;
  for (const name of SERVER_ENV_ALLOW_LIST) {
    const value = options.serverEnv[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  env.CI = "true";
  Object.assign(env, options.pipelineEnv ?? {}, options.stepEnv ?? {}, options.secrets, options.vars);
  return env;
}
