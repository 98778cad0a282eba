/**
 * The pure decision at the heart of deploy-bot: which pipelines an event runs, in which order, and why every
 * other rule did not match. No I/O; the caller lists a pull request's files when asked and plans again.
 */
import type { Config, ForksPolicy } from "../config/schema.ts";
import { type DeployEvent, type Ignored, ignored } from "../events/deploy-event.ts";
import { ruleCoversRepo } from "../match/match-repos.ts";
import { matchRule } from "../match/match-rule.ts";
import type { MatchedRule, NeedsChangedFiles, Plan, PlannedRun, UnmatchedRule } from "./plan.ts";

const STRICTNESS: Record<ForksPolicy, number> = { run: 0, approve: 1, never: 2 };

/**
 * Plans an event against the config. Ignored when no rule covers the repository; `NeedsChangedFiles` when a
 * rule that otherwise matches filters on paths and the pull request's files were not listed yet. A pipeline
 * named by several matching rules runs once; it needs every pipeline listed before it in any matching rule,
 * except an edge that would close a cycle (the later rule's edge is dropped; the first rule's order wins).
 */
export function planEvent(config: Config, event: DeployEvent): Plan | NeedsChangedFiles | Ignored {
  if (!config.rules.some((rule) => ruleCoversRepo(rule, event.repo.fullName))) {
    return ignored(`repository ${event.repo.fullName} is not covered by any rule`);
  }
  const matched: MatchedRule[] = [];
  const unmatched: UnmatchedRule[] = [];
  const needFiles: string[] = [];
  for (const rule of config.rules) {
    const result = matchRule(rule, event);
    if ("needsChangedFiles" in result) needFiles.push(rule.name);
    else if (result.matched) {
      matched.push(
        result.note
          ? { rule: rule.name, pipelines: rule.run, note: result.note }
          : { rule: rule.name, pipelines: rule.run },
      );
    } else unmatched.push({ rule: rule.name, reason: result.reason });
  }
  if (needFiles.length > 0) return { needsChangedFiles: true, rules: needFiles };
  return { matched, unmatched, runs: orderRuns(config, matched) };
}

function orderRuns(config: Config, matched: readonly MatchedRule[]): PlannedRun[] {
  const firstSeen: string[] = [];
  const needs = new Map<string, Set<string>>();
  const forks = new Map<string, ForksPolicy>();
  for (const rule of matched) {
    const policy = config.rules.find((r) => r.name === rule.rule)?.forks ?? "approve";
    rule.pipelines.forEach((pipeline, i) => {
      if (!needs.has(pipeline)) {
        firstSeen.push(pipeline);
        needs.set(pipeline, new Set());
      }
      const current = forks.get(pipeline);
      if (current === undefined || STRICTNESS[policy] > STRICTNESS[current]) forks.set(pipeline, policy);
      for (const before of rule.pipelines.slice(0, i)) {
        if (!dependsOn(needs, before, pipeline)) needs.get(pipeline)?.add(before);
      }
    });
  }
  // Kahn's algorithm, always taking the ready pipeline that appeared first: stable, readable order.
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < firstSeen.length) {
    const next = firstSeen.find((p) => !done.has(p) && [...(needs.get(p) ?? [])].every((n) => done.has(n)));
    if (next === undefined) break; // unreachable: edges that would close a cycle were never added
    order.push(next);
    done.add(next);
  }
  return order.map((pipeline) => ({
    pipeline,
    needs: firstSeen.filter((p) => needs.get(pipeline)?.has(p)),
    environment: config.pipelines[pipeline]?.environment,
    forks: forks.get(pipeline) ?? "approve",
    ...(config.pipelines[pipeline]?.manual === true ? { manual: true as const } : {}),
  }));
}

/** Whether `from` already (transitively) needs `target`; adding `target → from` would then close a cycle. */
function dependsOn(needs: ReadonlyMap<string, ReadonlySet<string>>, from: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (current === target) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    stack.push(...(needs.get(current) ?? []));
  }
  return false;
}
