/**
 * `deploy-bot plan --event schedule --repo owner/name [--branch b]`: which scheduled rules tick for a
 * repository, when they next tick, and what each tick would run. Offline: the branch head is resolved
 * through the API only at a real tick, so the plan names the branch, not a commit.
 */
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import type { Config } from "../config/schema.ts";
import { scheduleEvent } from "../events/schedule-event.ts";
import type { PlannedRun } from "../runs/plan.ts";
import { planEvent } from "../runs/plan-event.ts";
import { nextTicks, scheduledTicks, tickDeliveryId } from "../runs/schedule-ticks.ts";
import { defaultConfigPath } from "./args.ts";

const NEXT_TICKS = 3;
/** Stands for "the branch head at the tick" in the synthetic event (never printed as a commit). */
const PLACEHOLDER_SHA = "0".repeat(40);

export interface SchedulePlanArgs {
  readonly repo: string;
  readonly branch?: string | undefined;
  readonly config?: string | undefined;
  readonly json?: boolean | undefined;
}

export interface TickPlan {
  readonly rule: string;
  readonly cron: string;
  /** Undefined: the repository's default branch. */
  readonly branch: string | undefined;
  readonly next: readonly string[];
  readonly runs: readonly PlannedRun[];
}

export interface SchedulePlan {
  readonly repo: string;
  readonly ticks: readonly TickPlan[];
  readonly unmatched: readonly { rule: string; reason: string }[];
}

/** Pure: the schedules of `config` that tick for `repo` (and `branch`, when given), from `now`. */
export function planSchedule(
  config: Config,
  repo: string,
  branch: string | undefined,
  now: Date,
): SchedulePlan {
  const ticks: TickPlan[] = [];
  const unmatched: { rule: string; reason: string }[] = [];
  const all = scheduledTicks(config);
  for (const rule of config.rules) {
    if (!rule.on.schedule) {
      unmatched.push({ rule: rule.name, reason: "the rule has no schedule" });
      continue;
    }
    const mine = all.filter((t) => t.rule === rule.name && t.repo.toLowerCase() === repo.toLowerCase());
    if (mine.length === 0) {
      unmatched.push({
        rule: rule.name,
        reason: `repository ${repo} is not in repos [${(rule.repos ?? []).join(", ")}]`,
      });
      continue;
    }
    const onBranch = mine.filter(
      (t) => branch === undefined || t.branch === undefined || t.branch === branch,
    );
    if (onBranch.length === 0) {
      const branches = mine.map((t) => t.branch).join(", ");
      unmatched.push({ rule: rule.name, reason: `its schedule runs branch ${branches}, not ${branch}` });
      continue;
    }
    for (const tick of onBranch) {
      const next = nextTicks(tick.cron, now, NEXT_TICKS);
      const [owner = "", name = ""] = repo.split("/");
      const event = scheduleEvent({
        deliveryId: tickDeliveryId(tick.rule, repo, next[0] ?? now),
        rule: tick.rule,
        cron: tick.cron,
        tick: next[0] ?? now,
        repo: { owner, name, fullName: repo, cloneUrl: "https://invalid.example/", private: true },
        installationId: undefined,
        branch: tick.branch ?? branch ?? "(default branch)",
        sha: PLACEHOLDER_SHA,
      });
      const plan = planEvent(config, event);
      const runs = "runs" in plan ? plan.runs : [];
      ticks.push({
        rule: tick.rule,
        cron: tick.cron,
        branch: tick.branch,
        next: next.map((d) => d.toISOString()),
        runs,
      });
    }
  }
  return { repo, ticks, unmatched };
}

export async function planScheduleCommand(args: SchedulePlanArgs): Promise<number> {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.repo)) {
    process.stderr.write(`deploy-bot plan: --repo must be owner/name, got ${JSON.stringify(args.repo)}\n`);
    return 2;
  }
  const configFile = args.config ?? defaultConfigPath();
  const loaded = await loadConfig(configFile);
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => `${formatConfigError(e)}\n`).join(""));
    return 1;
  }
  const plan = planSchedule(loaded.config, args.repo, args.branch, new Date());
  process.stdout.write(args.json ? `${JSON.stringify(jsonBody(plan), null, 2)}\n` : renderSchedulePlan(plan));
  return 0;
}

function jsonBody(plan: SchedulePlan) {
  const pipelines = [...new Set(plan.ticks.flatMap((tick) => tick.runs.map((run) => run.pipeline)))];
  return {
    pipelines,
    ticks: plan.ticks.map((tick) => ({
      ...tick,
      branch: tick.branch ?? null,
      pipelines: tick.runs.map((run) => run.pipeline),
      runs: tick.runs.map((run) => ({ ...run, environment: run.environment ?? null })),
    })),
    unmatched: plan.unmatched,
    ignored: plan.ticks.length === 0 ? `no scheduled rule ticks for ${plan.repo}` : null,
    event: { name: "schedule", repo: plan.repo },
  };
}

/** Human output; exact-string tested. */
export function renderSchedulePlan(plan: SchedulePlan): string {
  const lines = [`event: schedule of ${plan.repo}`];
  if (plan.ticks.length === 0)
    lines.push(`ignored: no scheduled rule ticks for ${plan.repo}`, "nothing would run");
  for (const tick of plan.ticks) {
    lines.push(
      "",
      `rule ${tick.rule}: cron '${tick.cron}' (UTC) on ${tick.branch ? `branch ${tick.branch}` : "the default branch"}`,
      `  next ticks: ${tick.next.join(", ")}`,
      "  at each tick, at the branch's head commit (resolved through the API), runs in order:",
    );
    tick.runs.forEach((run, i) => {
      const details = [
        run.needs.length > 0 ? `needs ${run.needs.join(", ")}` : "",
        run.environment ? `environment ${run.environment}` : "",
      ].filter(Boolean);
      lines.push(`    ${i + 1}. ${run.pipeline}${details.length > 0 ? ` (${details.join("; ")})` : ""}`);
    });
    lines.push(
      `  a tick is skipped while ${tick.runs.map((run) => run.pipeline).join(" or ")} is still queued or running for ${plan.repo}`,
    );
  }
  lines.push("", "rules not ticking:");
  if (plan.unmatched.length === 0) lines.push("  (none)");
  for (const rule of plan.unmatched) lines.push(`  ${rule.rule}: ${rule.reason}`);
  return `${lines.join("\n")}\n`;
}
