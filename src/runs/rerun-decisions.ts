/**
 * Pure decisions behind the Checks tab (`settings.checks: true`): what "Re-run" and "Re-run all checks" run
 * again at a commit, and what a button (`approve`, `deploy`) does. The flow (`flow/run-check-request.ts`)
 * finds the runs in the store and the user's permission through the API; every "no" is a refusal that says why.
 */
import type { Config, ForksPolicy } from "../config/schema.ts";
import type { DeployEvent } from "../events/deploy-event.ts";
import { deployersProblem, type Refusal, refuse } from "./command-decisions.ts";
import type { CommandRunInput } from "./command-run.ts";
import { FINAL_RUN_STATES, type RunRecord } from "./run.ts";
import { shortSha } from "./supersede-key.ts";

/** Runs to create again under the event of the runs they repeat (a commit's runs may come from a push and a PR). */
export interface RerunGroup {
  readonly event: DeployEvent;
  readonly runs: readonly CommandRunInput[];
}

export interface Rerun {
  readonly groups: readonly RerunGroup[];
  /** The pipelines that run again, each once (`test, deploy`): for the note and the log. */
  readonly pipelines: readonly string[];
}

/** The newest run of each pipeline, in the order of those newest runs. */
function newestByPipeline(runs: readonly RunRecord[]): Map<string, RunRecord> {
  const latest = new Map<string, RunRecord>();
  for (const run of runs) {
    latest.delete(run.pipeline);
    latest.set(run.pipeline, run);
  }
  return latest;
}

const describeState = (state: string) => state.replace("_", " ");

/**
 * "Re-run" on the check run of `target`, given every run of its repository at its commit (oldest first): that
 * pipeline runs again, and with it every pipeline of the same delivery that was skipped because of it (chains
 * hold: re-running `test` re-runs the deploy that `test` failing skipped). Refused while a newer run of it is
 * still queued or running, or while it waits for a button.
 */
export function decideRerun(
  config: Config,
  runsAtSha: readonly RunRecord[],
  target: RunRecord,
): Rerun | Refusal {
  const sha = target.event.sha;
  if (!config.pipelines[target.pipeline])
    return refuse(`pipeline ${target.pipeline} is no longer in the config`);
  const newest = newestByPipeline(runsAtSha).get(target.pipeline) ?? target;
  if (newest.state === "waiting")
    return refuse(`${target.pipeline} is waiting to be deployed at ${shortSha(sha)}: use its Deploy button`);
  if (newest.state === "awaiting_approval")
    return refuse(`${target.pipeline} awaits approval at ${shortSha(sha)}: use its Approve button`);
  if (!FINAL_RUN_STATES.has(newest.state))
    return refuse(`${target.pipeline} is ${describeState(newest.state)} at ${shortSha(sha)}`);

  // Chains live within one delivery: the newest run of each pipeline there, and those it skipped,
  // transitively, in run order.
  const own = newestByPipeline(runsAtSha.filter((run) => run.deliveryId === target.deliveryId));
  const chosen = new Set([target.pipeline]);
  const again = [own.get(target.pipeline) ?? target];
  for (const run of own.values()) {
    if (chosen.has(run.pipeline) || run.state !== "skipped" || !config.pipelines[run.pipeline]) continue;
    if (!run.needs.some((need) => chosen.has(need))) continue;
    chosen.add(run.pipeline);
    again.push(run);
  }
  return rerunOf(config, again, target.pipeline);
}

/**
 * "Re-run all checks" at `sha`: the newest run of every pipeline there runs again, each under the event it
 * ran for, together with the runs of its own delivery it needs (a chain is never cut in two). Refused while
 * any is queued or running; runs waiting for a button are left to their button.
 */
export function decideRerunAll(
  config: Config,
  runsAtSha: readonly RunRecord[],
  sha: string,
): Rerun | Refusal {
  const latest = newestByPipeline(runsAtSha);
  if (latest.size === 0) return refuse(`nothing ran at ${shortSha(sha)}`);
  const active = [...latest.values()].filter((run) => run.state === "queued" || run.state === "running");
  if (active.length > 0)
    return refuse(
      `${active.map((run) => run.pipeline).join(", ")} ${active.length === 1 ? "is" : "are"} still queued or running at ${shortSha(sha)}`,
    );
  const final = [...latest.values()].filter((run) => FINAL_RUN_STATES.has(run.state));
  if (final.length === 0) return refuse(`every pipeline at ${shortSha(sha)} waits for a button`);
  const ids = new Set(final.filter((run) => config.pipelines[run.pipeline]).map((run) => run.id));
  if (ids.size === 0) return refuse(`no pipeline that ran at ${shortSha(sha)} is in the config any more`);

  const neededBy = (run: RunRecord) =>
    run.needs.flatMap((need) => {
      const needed = runsAtSha.findLast(
        (other) => other.deliveryId === run.deliveryId && other.pipeline === need,
      );
      return needed && FINAL_RUN_STATES.has(needed.state) && config.pipelines[need] ? [needed] : [];
    });
  for (let grew = true; grew; ) {
    grew = false;
    for (const run of runsAtSha)
      if (ids.has(run.id))
        for (const needed of neededBy(run))
          if (!ids.has(needed.id)) {
            ids.add(needed.id);
            grew = true;
          }
  }
  return rerunOf(
    config,
    runsAtSha.filter((run) => ids.has(run.id)),
    undefined,
  );
}

/**
 * New runs of `again` (in run order), grouped by the delivery they ran for (its event), with needs kept among
 * the runs of the same group. The pipeline clicked runs at once; a `manual` pipeline otherwise waits for its
 * deploy again. Fork code waits for approval again unless every rule naming the pipeline lets forks run.
 */
function rerunOf(config: Config, again: readonly RunRecord[], clicked: string | undefined): Rerun {
  const groups = new Map<string, { event: DeployEvent; runs: CommandRunInput[] }>();
  for (const run of again) {
    const inGroup = new Set(
      again.filter((other) => other.deliveryId === run.deliveryId).map((other) => other.pipeline),
    );
    const definition = config.pipelines[run.pipeline];
    const input: CommandRunInput = {
      pipeline: run.pipeline,
      environment: definition?.environment ?? null,
      needs: run.needs.filter((need) => inGroup.has(need)),
      stepNames: definition?.steps.map((step) => step.name) ?? [],
      manual: run.pipeline !== clicked && definition?.manual === true,
      retryOf: run.id,
      ...(run.event.fork && forksPolicy(config, run.pipeline) !== "run" ? { awaitingApproval: true } : {}),
    };
    const group = groups.get(run.deliveryId) ?? { event: run.event, runs: [] };
    group.runs.push(input);
    groups.set(run.deliveryId, group);
  }
  return { groups: [...groups.values()], pipelines: [...new Set(again.map((run) => run.pipeline))] };
}

const STRICTNESS: Record<ForksPolicy, number> = { run: 0, approve: 1, never: 2 };

/** The strictest fork policy of the rules that name `pipeline` (`approve` when none does any more). */
export function forksPolicy(config: Config, pipeline: string): ForksPolicy {
  let policy: ForksPolicy | undefined;
  for (const rule of config.rules) {
    if (!rule.run.includes(pipeline)) continue;
    if (policy === undefined || STRICTNESS[rule.forks] > STRICTNESS[policy]) policy = rule.forks;
  }
  return policy ?? "approve";
}

/** What a button on the check run of `target` does. */
export type ButtonDecision =
  | { readonly approve: { readonly prNumber: number; readonly sha: string } }
  | { readonly deploy: { readonly environment: string } };

/** The `approve` and `deploy` buttons (`report/render-check-run.ts` shows them); anything else is refused. */
export function decideButton(
  config: Config,
  target: RunRecord,
  identifier: string,
  login: string,
): ButtonDecision | Refusal {
  const at = shortSha(target.event.sha);
  if (identifier === "approve") {
    if (target.state !== "awaiting_approval")
      return refuse(
        `${target.pipeline} at ${at} does not await approval (it is ${describeState(target.state)})`,
      );
    if (target.event.kind !== "pull_request")
      return refuse(`${target.pipeline} at ${at} is not a pull request's run`);
    return { approve: { prNumber: target.event.prNumber, sha: target.event.sha } };
  }
  if (identifier === "deploy") {
    if (target.state !== "waiting")
      return refuse(
        `${target.pipeline} at ${at} is not waiting to be deployed (it is ${describeState(target.state)})`,
      );
    if (target.environment === null) return refuse(`${target.pipeline} deploys to no environment`);
    const denied = deployersProblem(config, login, [target.pipeline]);
    if (denied) return refuse(denied);
    return { deploy: { environment: target.environment } };
  }
  return refuse(`unknown button ${JSON.stringify(identifier)}`);
}
