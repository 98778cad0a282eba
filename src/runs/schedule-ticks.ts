/**
 * Pure rules of scheduled rules (`on.schedule`): which tick a fired job stands for, the next ticks, the
 * tick's delivery id, and whether a tick runs or is skipped. The queue engine (pg-boss) decides *when* a tick
 * fires (once across workers, missed-while-down → once); these decide *what* it means.
 */
import { CronExpressionParser } from "cron-parser";
import type { Config } from "../config/schema.ts";

/**
 * The tick a fired job stands for: the latest occurrence at or before `firedAt`. Every job fired for one
 * occurrence (a catch-up after downtime and the one due now included) maps to the same tick, so their
 * delivery ids collide and the store runs the tick once.
 */
export function tickAt(cron: string, firedAt: Date): Date {
  const interval = CronExpressionParser.parse(cron, {
    tz: "UTC",
    strict: false,
    currentDate: new Date(firedAt.getTime() + 1),
  });
  return interval.prev().toDate();
}

/** The next `count` ticks strictly after `from` (for `deploy-bot plan --event schedule`). */
export function nextTicks(cron: string, from: Date, count: number): Date[] {
  const interval = CronExpressionParser.parse(cron, { tz: "UTC", strict: false, currentDate: from });
  return interval.take(count).map((date) => date.toDate());
}

/** Deterministic: two workers firing the same tick produce the same id, which the store accepts once. */
export function tickDeliveryId(rule: string, repo: string, tick: Date): string {
  return `schedule:${rule}:${repo.toLowerCase()}:${tick.toISOString()}`;
}

/** A run of the repository that has not finished yet. */
export interface ActiveRun {
  readonly id: string;
  readonly pipeline: string;
  readonly state: "queued" | "running" | "awaiting_approval";
}

export type TickDecision = { readonly run: true } | { readonly run: false; readonly reason: string };

/**
 * A tick runs unless one of the pipelines it would run is still queued or running for the repository
 * (whatever started it): reconciliation must not pile up behind a slow apply. Runs awaiting a fork's
 * approval do not hold a tick back (they may never start).
 */
export function decideTick(pipelines: readonly string[], active: readonly ActiveRun[]): TickDecision {
  const blocking = active.filter(
    (run) => run.state !== "awaiting_approval" && pipelines.includes(run.pipeline),
  );
  if (blocking.length === 0) return { run: true };
  const names = [...new Set(blocking.map((run) => `${run.pipeline} is still ${run.state}`))];
  return { run: false, reason: `tick skipped: ${names.join(", ")}` };
}

/** One (rule, repository, cron entry) the scheduler registers with the queue engine. */
export interface ScheduledTick {
  readonly rule: string;
  /** `owner/name` as written in the rule's `repos`. */
  readonly repo: string;
  /** Undefined: the repository's default branch, resolved at each tick. */
  readonly branch: string | undefined;
  readonly cron: string;
}

/** Every schedule a config declares, one per rule × repository × cron entry (duplicates once). */
export function scheduledTicks(config: Pick<Config, "rules">): ScheduledTick[] {
  const seen = new Set<string>();
  const ticks: ScheduledTick[] = [];
  for (const rule of config.rules) {
    for (const entry of rule.on.schedule ?? []) {
      for (const repo of rule.repos ?? []) {
        const tick = { rule: rule.name, repo, branch: entry.branch, cron: entry.cron.trim() };
        const id = JSON.stringify([tick.rule, tick.repo.toLowerCase(), tick.branch ?? null, tick.cron]);
        if (seen.has(id)) continue;
        seen.add(id);
        ticks.push(tick);
      }
    }
  }
  return ticks;
}
