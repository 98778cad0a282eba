/**
 * `deploy-bot plan`: what a webhook payload would run against a config, and why each other rule would not.
 * It runs nothing and needs no network, except to list a pull request's files when a rule filters on paths
 * and they were not given with --files / --files-from.
 */
import { readFile } from "node:fs/promises";
import { Octokit } from "@octokit/rest";
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import type { ChangedFiles, DeployEvent } from "../events/deploy-event.ts";
import { isIgnored } from "../events/deploy-event.ts";
import { normaliseEvent } from "../events/normalise.ts";
import { listPullRequestFiles } from "../github/list-pull-request-files.ts";
import type { Plan } from "../runs/plan.ts";
import { planEvent } from "../runs/plan-event.ts";
import { defaultConfigPath, parseCommandArgs } from "./args.ts";
import { planScheduleCommand } from "./plan-schedule.ts";
import { usageError } from "./usage.ts";

export const PLAN_USAGE = `Usage: deploy-bot plan --event <name> --payload <file.json> [--config file] [--json]
                       [--files a,b | --files-from file] [--delivery id]
       deploy-bot plan --event schedule --repo owner/name [--branch b] [--config file] [--json]`;

const OPTIONS = {
  event: { type: "string" },
  payload: { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
  files: { type: "string" },
  "files-from": { type: "string" },
  delivery: { type: "string" },
  repo: { type: "string" },
  branch: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The REST API base URL: github.com, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3` for GitHub Enterprise Server. */
export function githubApiBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (!env.GHE_HOST) return "https://api.github.com";
  return `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3`;
}

/** Prints the plan for one payload; returns the exit code (see `deploy-bot --help`). */
export async function planCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, 0);
  if (!args.ok) return usageError(args.error, PLAN_USAGE);
  const { values } = args;
  if (values.help) {
    process.stdout.write(`${PLAN_USAGE}\n`);
    return 0;
  }
  if (values.event === "schedule") {
    if (values.payload !== undefined) return usageError("a schedule has no payload: give --repo", PLAN_USAGE);
    if (!values.repo) return usageError("plan --event schedule needs --repo owner/name", PLAN_USAGE);
    return planScheduleCommand({ ...values, repo: values.repo });
  }
  if (values.repo !== undefined || values.branch !== undefined) {
    return usageError("--repo and --branch go with --event schedule", PLAN_USAGE);
  }
  if (!values.event || !values.payload) return usageError("plan needs --event and --payload", PLAN_USAGE);
  if (values.files !== undefined && values["files-from"] !== undefined) {
    return usageError("give either --files or --files-from, not both", PLAN_USAGE);
  }
  const out = values.json ? jsonOutput : humanOutput;

  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(values.payload, "utf8"));
  } catch (error) {
    return fail(`cannot read the payload ${values.payload}: ${(error as Error).message}`);
  }
  const configFile = values.config ?? defaultConfigPath();
  const loaded = await loadConfig(configFile);
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => `${formatConfigError(e)}\n`).join(""));
    return 1;
  }

  const normalised = normaliseEvent(values.event, values.delivery ?? "cli", payload);
  if (isIgnored(normalised)) {
    out({ name: values.event, event: undefined, ignored: normalised.reason, plan: undefined });
    return 0;
  }
  let event: DeployEvent = normalised;
  const given = await givenFiles(values.files, values["files-from"]);
  if (given && !given.ok) return fail(given.error);
  if (given) event = { ...event, changedFiles: given.files };

  let plan = planEvent(loaded.config, event);
  if ("needsChangedFiles" in plan && event.kind === "pull_request") {
    const token = process.env.GITHUB_TOKEN;
    const rules = `rule${plan.rules.length === 1 ? "" : "s"} ${plan.rules.map((rule) => `"${rule}"`).join(", ")}`;
    if (!token) {
      return fail(
        `${rules} ${plan.rules.length === 1 ? "filters" : "filter"} on paths, so the plan needs the files changed by pull request #${event.prNumber}.\n` +
          "Pass them with --files a,b or --files-from <file> (one path a line), " +
          "or set GITHUB_TOKEN to list them through the GitHub API.",
      );
    }
    const baseUrl = githubApiBaseUrl();
    process.stderr.write(
      `listing the files of ${event.repo.fullName}#${event.prNumber} through the GitHub API (${baseUrl}) for ${rules}\n`,
    );
    try {
      const octokit = new Octokit({ auth: token, baseUrl, userAgent: "deploy-bot-cli", log: quietLog });
      const changedFiles = await listPullRequestFiles(octokit, {
        owner: event.repo.owner,
        repo: event.repo.name,
        pullNumber: event.prNumber,
      });
      event = { ...event, changedFiles };
    } catch (error) {
      return fail(`cannot list the files of pull request #${event.prNumber}: ${(error as Error).message}`);
    }
    plan = planEvent(loaded.config, event);
  }
  if ("needsChangedFiles" in plan)
    return fail(`changed files still unknown for rules ${plan.rules.join(", ")}`);
  if (isIgnored(plan)) {
    out({ name: values.event, event, ignored: plan.reason, plan: undefined });
    return 0;
  }
  out({ name: values.event, event, ignored: undefined, plan });
  return 0;
}

const quietLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function fail(message: string): number {
  process.stderr.write(`deploy-bot plan: ${message}\n`);
  return 1;
}

type FilesResult = { ok: true; files: ChangedFiles } | { ok: false; error: string };

async function givenFiles(
  list: string | undefined,
  from: string | undefined,
): Promise<FilesResult | undefined> {
  if (list !== undefined) return { ok: true, files: { known: true, files: splitFiles(list.split(",")) } };
  if (from === undefined) return undefined;
  try {
    return {
      ok: true,
      files: { known: true, files: splitFiles((await readFile(from, "utf8")).split(/\r?\n/)) },
    };
  } catch (error) {
    return { ok: false, error: `cannot read --files-from ${from}: ${(error as Error).message}` };
  }
}

const splitFiles = (parts: readonly string[]): string[] => [
  ...new Set(parts.map((part) => part.trim()).filter((part) => part !== "")),
];

interface Outcome {
  readonly name: string;
  readonly event: DeployEvent | undefined;
  readonly ignored: string | undefined;
  readonly plan: Plan | undefined;
}

/** One JSON object; `pipelines` lists the pipeline names that would run, in order (empty when none). */
function jsonOutput({ name, event, ignored, plan }: Outcome): void {
  const body = {
    pipelines: plan?.runs.map((run) => run.pipeline) ?? [],
    runs: plan?.runs.map((run) => ({ ...run, environment: run.environment ?? null })) ?? [],
    matched: plan?.matched ?? [],
    unmatched: plan?.unmatched ?? [],
    ignored: ignored ?? null,
    event: event ? describeEventJson(event) : { name },
  };
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
}

function describeEventJson(event: DeployEvent): Record<string, unknown> {
  const common = {
    name: event.kind,
    action: event.action,
    deliveryId: event.deliveryId,
    repo: event.repo.fullName,
    installationId: event.installationId ?? null,
    sha: event.sha,
    ref: event.ref,
    branch: event.branch ?? null,
    tag: event.tag ?? null,
    sender: event.sender,
    changedFiles: event.changedFiles,
  };
  if (event.kind === "push") return { ...common, before: event.before, fork: false };
  if (event.kind === "schedule") return { ...common, rule: event.rule, cron: event.cron, tick: event.tick };
  return {
    ...common,
    prNumber: event.prNumber,
    baseBranch: event.baseBranch,
    draft: event.draft,
    fork: event.fork,
    headRepo: event.headRepoFullName,
  };
}

function describeEvent(event: DeployEvent): string {
  const at = `${event.repo.fullName} at ${event.sha.slice(0, 7)}`;
  if (event.kind === "push") {
    return event.tag !== undefined
      ? `push of tag ${event.tag} to ${at}`
      : `push to branch ${event.branch} of ${at}`;
  }
  if (event.kind === "schedule") return `schedule of rule "${event.rule}" on branch ${event.branch} of ${at}`;
  const flags = [event.draft ? "draft" : "", event.fork ? `fork ${event.headRepoFullName}` : ""].filter(
    Boolean,
  );
  return (
    `pull_request ${event.action} #${event.prNumber} (${event.branch} → ${event.baseBranch}) of ${at}` +
    (flags.length > 0 ? ` [${flags.join(", ")}]` : "")
  );
}

function describeFiles(files: ChangedFiles): string {
  if (!files.known) return `unknown (${files.reason})`;
  const shown = files.files.slice(0, 10).join(", ");
  return `${files.files.length}${files.files.length > 0 ? `: ${shown}${files.files.length > 10 ? ", …" : ""}` : ""}`;
}

function humanOutput({ name, event, ignored, plan }: Outcome): void {
  const lines: string[] = [];
  if (event) {
    lines.push(`event: ${describeEvent(event)} (delivery ${event.deliveryId})`);
    lines.push(`changed files: ${describeFiles(event.changedFiles)}`);
  } else lines.push(`event: ${name}`);
  if (ignored !== undefined) lines.push(`ignored: ${ignored}`, "nothing would run");
  if (plan) {
    lines.push("", "matched rules:");
    if (plan.matched.length === 0) lines.push("  (none)");
    for (const rule of plan.matched) {
      lines.push(`  ${rule.rule} → ${rule.pipelines.join(", ")}`);
      if (rule.note) lines.push(`    note: ${rule.note}`);
    }
    lines.push("", "runs, in order:");
    if (plan.runs.length === 0) lines.push("  nothing would run");
    plan.runs.forEach((run, i) => {
      const details = [
        run.needs.length > 0 ? `needs ${run.needs.join(", ")}` : "",
        run.environment ? `environment ${run.environment}` : "",
        run.manual ? `manual: waits for /deploy-bot deploy ${run.environment ?? "<environment>"}` : "",
        event?.fork ? `forks: ${run.forks}` : "",
      ].filter(Boolean);
      lines.push(`  ${i + 1}. ${run.pipeline}${details.length > 0 ? ` (${details.join("; ")})` : ""}`);
    });
    lines.push("", "rules not matched:");
    if (plan.unmatched.length === 0) lines.push("  (none)");
    for (const rule of plan.unmatched) lines.push(`  ${rule.rule}: ${rule.reason}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
