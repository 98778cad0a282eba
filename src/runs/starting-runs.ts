/**
 * How each planned run starts: runs a fork may never run are dropped (and so are needs on them), runs a
 * fork needs approval for wait as `awaiting_approval`, and every run carries its step names.
 */
import type { Config } from "../config/schema.ts";
import type { DeployEvent } from "../events/deploy-event.ts";
import type { AcceptRunInput } from "./accept-input.ts";
import type { Plan, PlannedRun } from "./plan.ts";

export function startingRuns(config: Config, plan: Plan, event: DeployEvent): AcceptRunInput[] {
  return plan.runs
    .filter((run) => !(event.fork && run.forks === "never"))
    .map((run: PlannedRun) => ({
      pipeline: run.pipeline,
      needs: run.needs.filter((need) =>
        plan.runs.some((other) => other.pipeline === need && !(event.fork && other.forks === "never")),
      ),
      environment: run.environment ?? null,
      stepNames: config.pipelines[run.pipeline]?.steps.map((step) => step.name) ?? [],
      manual: config.pipelines[run.pipeline]?.manual === true,
      initialState: initialState(config, plan, event, run),
    }));
}

function initialState(
  config: Config,
  plan: Plan,
  event: DeployEvent,
  run: PlannedRun,
): "queued" | "awaiting_approval" | "waiting" {
  if (event.fork && run.forks === "approve") return "awaiting_approval";
  const needs = run.needs.filter((need) =>
    plan.runs.some((other) => other.pipeline === need && !(event.fork && other.forks === "never")),
  );
  // A manual pipeline first in its chain has nothing to wait for but the command.
  return config.pipelines[run.pipeline]?.manual === true && needs.length === 0 ? "waiting" : "queued";
}
