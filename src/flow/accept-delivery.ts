/**
 * The webhook half of deploy-bot's one flow: event → normalise → match/plan → record + queue → report.
 * It runs inside the HTTP request, so it does only quick, bounded work; pipelines run later, from the queue
 * (`execute-run.ts`). Nothing here throws for an event we decide not to act on: that is an `ignored` result.
 */
import type { Config } from "../config/schema.ts";
import type { Delivery } from "../events/delivery.ts";
import type { ChangedFiles, DeployEvent, PullRequestEvent } from "../events/deploy-event.ts";
import { isIgnored } from "../events/deploy-event.ts";
import { normaliseEvent } from "../events/normalise.ts";
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";
import type { Plan } from "../runs/plan.ts";
import { planEvent } from "../runs/plan-event.ts";
import type { RunRecord } from "../runs/run.ts";
import { startingRuns } from "../runs/starting-runs.ts";
import type { AcceptResult as AcceptResultOfStore } from "../store/accept-deliveries.ts";

/** What the store records for a delivery. */
export type AcceptInput = AcceptDeliveryInput;

/** The side effects the webhook half needs; `main.ts` passes the real ones, tests pass their own. */
export interface AcceptDeps {
  readonly config: () => Config;
  /** Records the delivery and its runs and enqueues them in one transaction; a known delivery id is a no-op. */
  readonly record: (input: AcceptInput) => Promise<AcceptResultOfStore>;
  /** Records a delivery that runs nothing; may batch (nothing is lost if it never commits). */
  readonly recordIgnored: (input: AcceptInput) => void;
  /** Lists a pull request's changed files through the API (only called when a rule filters on paths). */
  readonly listChangedFiles: (event: PullRequestEvent) => Promise<ChangedFiles>;
  /**
   * Told of each run the delivery changed, after the commit (metrics; waking the outbox, whose report messages
   * the store recorded in the same transaction). Never throws, never blocks.
   */
  readonly report: (run: RunRecord) => void;
}

export type AcceptResult =
  | { readonly outcome: "accepted"; readonly runs: readonly RunRecord[] }
  | { readonly outcome: "ignored"; readonly reason: string }
  | { readonly outcome: "duplicate" };

/**
 * Decides what a delivery runs and makes it durable before GitHub gets its 2xx, so a restart never loses
 * an accepted push and a redelivery (same `X-GitHub-Delivery`) never runs anything twice.
 */
export async function acceptDelivery(deps: AcceptDeps, delivery: Delivery): Promise<AcceptResult> {
  const config = deps.config();

  // 1. Normalise: the raw payload stops here; the rest sees a small typed DeployEvent.
  const event = normaliseEvent(delivery.name, delivery.id, delivery.payload);
  if (isIgnored(event)) return ignore(deps, delivery, null, event.reason);

  // 2. Match the rules and plan the runs; a pull request's changed files are listed only if a rule needs them.
  const plan = await planWithChangedFiles(deps, config, event);
  if (isIgnored(plan)) return ignore(deps, delivery, plan.event, plan.reason);

  // 3. Decide how each run starts: pull requests from forks wait for a writer's approval unless a rule says run.
  const runs = startingRuns(config, plan.plan, plan.event);
  if (runs.length === 0) {
    const reason =
      plan.plan.runs.length === 0 ? noRuleMatched(plan.plan) : "pull requests from forks never run here";
    return ignore(deps, delivery, plan.event, reason);
  }

  // 4. Record the delivery and its runs and enqueue them, atomically; a redelivery is acknowledged and dropped.
  const recorded = await deps.record({
    deliveryId: delivery.id,
    eventName: delivery.name,
    event: plan.event,
    repo: plan.event.repo.fullName,
    sha: plan.event.sha,
    outcome: "planned",
    reason: null,
    runs,
  });
  if (recorded.duplicate) return { outcome: "duplicate" };

  // 5. Report: every expected check appears at once as pending; replaced runs get their final status.
  for (const run of [...recorded.superseded, ...recorded.skipped, ...recorded.runs]) deps.report(run);
  return { outcome: "accepted", runs: recorded.runs };
}

type Planned = { readonly event: DeployEvent; readonly plan: Plan };
type PlanIgnored = { readonly ignored: true; readonly reason: string; readonly event: DeployEvent };

async function planWithChangedFiles(
  deps: AcceptDeps,
  config: Config,
  event: DeployEvent,
): Promise<Planned | PlanIgnored> {
  let current = event;
  let plan = planEvent(config, current);
  if ("needsChangedFiles" in plan && current.kind === "pull_request") {
    current = { ...current, changedFiles: await deps.listChangedFiles(current) };
    plan = planEvent(config, current);
  }
  if (isIgnored(plan)) return { ignored: true, reason: plan.reason, event: current };
  if ("needsChangedFiles" in plan) {
    // Only reachable if the planner asks twice; fail loudly rather than guess which files changed.
    throw new Error(`changed files still unknown for rules: ${plan.rules.join(", ")}`);
  }
  return { event: current, plan };
}

function noRuleMatched(plan: Plan): string {
  if (plan.unmatched.length === 0) return "no rule matched";
  return `no rule matched: ${plan.unmatched.map((rule) => `${rule.rule}: ${rule.reason}`).join("; ")}`;
}

function ignore(
  deps: AcceptDeps,
  delivery: Delivery,
  event: DeployEvent | null,
  reason: string,
): AcceptResult {
  deps.recordIgnored({
    deliveryId: delivery.id,
    eventName: delivery.name,
    event,
    repo: event?.repo.fullName ?? null,
    sha: event?.sha ?? null,
    outcome: "ignored",
    reason,
    runs: [],
  });
  return { outcome: "ignored", reason };
}
