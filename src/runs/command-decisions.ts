/**
 * Pure decisions behind `/deploy-bot` commands: who may run them, which pipeline deploys an environment, what
 * `retry` runs again and what `rollback` deploys. The flow (`flow/run-command.ts`) gathers the facts through
 * the API and the store; every "no" here is a refusal that says why.
 */
import type { Config } from "../config/schema.ts";
import type { CommandRunInput, DeployRecord } from "./command-run.ts";
import { FINAL_RUN_STATES, type RunRecord } from "./run.ts";
import { shortSha } from "./supersede-key.ts";

export type Refusal = { readonly refused: string };
export const refuse = (reason: string): Refusal => ({ refused: reason });
export const isRefusal = (value: unknown): value is Refusal =>
  typeof value === "object" && value !== null && "refused" in value;

/** What `GET /repos/{o}/{r}/collaborators/{user}/permission` answered. */
export interface Permission {
  readonly permission: string;
  readonly roleName?: string | undefined;
}

const WRITE_PERMISSIONS = new Set(["admin", "write"]);
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

/** Write, maintain or admin, as GitHub says now. */
export function canWrite(permission: Permission): boolean {
  return (
    WRITE_PERMISSIONS.has(permission.permission) ||
    (permission.roleName !== undefined && WRITE_ROLES.has(permission.roleName))
  );
}

/** Why `login` may not start `pipelines` (write access was checked before), or undefined when they may. */
export function deployersProblem(
  config: Config,
  login: string,
  pipelines: readonly string[],
): string | undefined {
  for (const name of pipelines) {
    const deployers = config.pipelines[name]?.deployers;
    if (deployers && !deployers.some((allowed) => allowed.toLowerCase() === login.toLowerCase()))
      return `only ${deployers.join(", ")} may deploy ${name}`;
  }
  return undefined;
}

/** The environments the config deploys to, sorted. */
export function environmentsOf(config: Config): string[] {
  const names = new Set<string>();
  for (const pipeline of Object.values(config.pipelines))
    if (pipeline.environment) names.add(pipeline.environment);
  return [...names].sort();
}

/** The one pipeline that deploys `environment`. */
export function pipelineFor(config: Config, environment: string): { readonly pipeline: string } | Refusal {
  const names = Object.entries(config.pipelines)
    .filter(([, pipeline]) => pipeline.environment === environment)
    .map(([name]) => name);
  if (names.length === 1) return { pipeline: names[0] as string };
  if (names.length > 1)
    return refuse(`several pipelines deploy to ${environment} (${names.join(", ")}): use retry <pipeline>`);
  const known = environmentsOf(config);
  return refuse(
    `unknown environment ${environment} (${known.length > 0 ? `environments: ${known.join(", ")}` : "no pipeline has an environment"})`,
  );
}

/** A new run of `pipeline` as the config describes it now. */
export function commandRun(
  config: Config,
  pipeline: string,
  extra: Partial<Pick<CommandRunInput, "needs" | "retryOf" | "manual">> = {},
): CommandRunInput {
  const definition = config.pipelines[pipeline];
  const needs = extra.needs ?? [];
  return {
    pipeline,
    environment: definition?.environment ?? null,
    needs,
    stepNames: definition?.steps.map((step) => step.name) ?? [],
    manual: extra.manual ?? (needs.length > 0 && definition?.manual === true),
    retryOf: extra.retryOf ?? null,
  };
}

/**
 * `retry [<pipeline>]` at one commit, given every run at that SHA (oldest first): the newest run of each
 * pipeline that ended without passing is run again (or only the named one, whatever its ending), keeping the
 * order among them; what passed is not run again. Nothing while something is still queued or running.
 */
export function decideRetry(
  config: Config,
  runs: readonly RunRecord[],
  sha: string,
  pipeline: string | undefined,
): CommandRunInput[] | Refusal {
  // The newest run of each pipeline, in the order of those newest runs.
  const latest = new Map<string, RunRecord>();
  for (const run of runs) {
    latest.delete(run.pipeline);
    latest.set(run.pipeline, run);
  }
  if (pipeline !== undefined) {
    const run = latest.get(pipeline);
    if (!config.pipelines[pipeline]) return refuse(`unknown pipeline ${pipeline}`);
    if (!run) return refuse(`${pipeline} never ran at ${shortSha(sha)}`);
    if (!FINAL_RUN_STATES.has(run.state))
      return refuse(`${pipeline} is ${run.state.replace("_", " ")} at ${shortSha(sha)}`);
    return [commandRun(config, pipeline, { retryOf: run.id, manual: false })];
  }
  if ([...latest.values()].some((run) => !FINAL_RUN_STATES.has(run.state) && run.state !== "waiting"))
    return refuse(`runs at ${shortSha(sha)} are still queued or running`);
  const again = [...latest.values()].filter(
    (run) => FINAL_RUN_STATES.has(run.state) && run.state !== "passed" && config.pipelines[run.pipeline],
  );
  if (again.length === 0)
    return refuse(
      latest.size === 0 ? `nothing ran at ${shortSha(sha)}` : `every run at ${shortSha(sha)} passed`,
    );
  const names = new Set(again.map((run) => run.pipeline));
  return again.map((run) =>
    commandRun(config, run.pipeline, {
      needs: run.needs.filter((need) => names.has(need)),
      retryOf: run.id,
    }),
  );
}

export interface RollbackTarget {
  readonly pipeline: string;
  /** The commit to deploy again, and the ref it was deployed from. */
  readonly sha: string;
  readonly ref: string;
  /** The commit it replaces (the newest successful deploy). */
  readonly rollbackOf: string;
}

/** `rollback <environment>`: the newest successful deploy of another commit than the current one. */
export function decideRollback(
  config: Config,
  environment: string,
  deploys: readonly DeployRecord[],
): RollbackTarget | Refusal {
  const current = deploys[0];
  if (!current) return refuse(`nothing to roll back to: ${environment} has no successful deploy yet`);
  const previous = deploys.find((deploy) => deploy.sha !== current.sha);
  if (!previous)
    return refuse(
      `nothing to roll back to: every successful deploy of ${environment} was ${shortSha(current.sha)}`,
    );
  const pipeline = config.pipelines[previous.pipeline] ? previous.pipeline : undefined;
  if (!pipeline) return refuse(`pipeline ${previous.pipeline} is no longer in the config`);
  return { pipeline, sha: previous.sha, ref: previous.ref, rollbackOf: current.sha };
}
