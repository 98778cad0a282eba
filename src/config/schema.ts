/**
 * The single source of truth for `deploy.config.yaml`: TypeScript types, defaults and the generated JSON
 * Schema (`schema/deploy.config.schema.json`, via `npm run schema`) all come from here.
 */
import { z } from "zod";
import { refNameProblem } from "../events/normalise-ref-name.ts";
import { patternListProblem } from "../match/pattern-list.ts";
import { cronProblem } from "./cron-expression.ts";
import { DURATION_PATTERN, parseDuration } from "./duration.ts";

const Duration = z
  .string()
  .regex(DURATION_PATTERN, {
    error: (issue) => `invalid duration ${JSON.stringify(issue.input)}: use e.g. 30s, 10m, 1h or 1h30m`,
  })
  .refine((text) => !DURATION_PATTERN.test(text) || parseDuration(text) > 0, {
    message: "a duration must be longer than 0s",
  })
  .describe("A duration such as 30s, 10m, 1h or 1h30m.");

const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: "use letters, digits, '.', '_' and '-' only" });

const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "not a valid environment variable name" });

/** Glob lists with GitHub Actions semantics; malformed globs and lists of only "!" patterns are errors. */
const Globs = z
  .array(z.string().min(1))
  .min(1, { message: "give at least one pattern" })
  .superRefine((patterns, ctx) => {
    const problem = patternListProblem(patterns);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const Step = z
  .strictObject({
    name: z.string().min(1).describe("Shown in statuses, the PR comment and logs."),
    run: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .describe("A string runs in `bash -eo pipefail -c`; an array runs as argv with no shell."),
    env: z.record(EnvName, z.string()).default({}).describe("Extra environment variables for this step."),
    timeout: Duration.optional().describe("Step timeout; defaults to the pipeline's."),
    workdir: z
      .string()
      .min(1)
      .optional()
      .describe("Directory relative to the checkout; must stay inside it."),
  })
  .describe("One command of a pipeline.");

/** A GitHub login: letters, digits and single inner hyphens, at most 39 characters. */
const Login = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a GitHub login`,
});

const Pipeline = z
  .strictObject({
    environment: Name.optional().describe(
      "Runs for one environment never overlap, across all workers; every run is a GitHub Deployment to it.",
    ),
    production: z
      .boolean()
      .optional()
      .describe(
        'production_environment of its GitHub Deployments; default: true when the environment is named "production".',
      ),
    manual: z
      .boolean()
      .optional()
      .describe(
        "Default false. In a rule's chain, wait after the pipelines before it pass until a writer comments `/deploy-bot deploy <environment>`.",
      ),
    deployers: z
      .array(Login)
      .min(1, { message: "give at least one login, or leave deployers out (anyone with write access)" })
      .optional()
      .describe(
        "Only these logins may deploy, retry or roll back this pipeline by command (default: anyone with write access).",
      ),
    secrets: z
      .array(EnvName)
      .default([])
      .describe("Names of server environment variables passed to this pipeline's steps, masked as ***."),
    env: z.record(EnvName, z.string()).default({}).describe("Environment variables for every step."),
    timeout: Duration.optional().describe("Pipeline timeout; defaults to settings.timeout."),
    steps: z.array(Step).min(1, { message: "a pipeline needs at least one step" }),
  })
  .describe("An ordered list of steps run against the event's exact commit.");

const ForksPolicy = z
  .enum(["run", "approve", "never"])
  .describe("Pull requests from forks: run, wait for approval by a writer (default), or never run.");

export const PULL_REQUEST_TYPES = [
  "opened",
  "synchronize",
  "reopened",
  "ready_for_review",
  "edited",
  "labeled",
  "unlabeled",
  "converted_to_draft",
] as const;

const PushFilter = z
  .strictObject({
    branches: Globs.optional(),
    "branches-ignore": Globs.optional(),
    tags: Globs.optional(),
    "tags-ignore": Globs.optional(),
    paths: Globs.optional(),
    "paths-ignore": Globs.optional(),
  })
  .describe("GitHub Actions `on.push` filters.");

const PullRequestFilter = z
  .strictObject({
    types: z
      .array(z.enum(PULL_REQUEST_TYPES))
      .min(1)
      .default(["opened", "synchronize", "reopened"])
      .describe("Pull request actions that trigger the rule."),
    branches: Globs.optional().describe("Globs on the base branch."),
    "branches-ignore": Globs.optional(),
    paths: Globs.optional(),
    "paths-ignore": Globs.optional(),
    drafts: z.boolean().default(true).describe("Whether draft pull requests trigger the rule."),
  })
  .describe("GitHub Actions `on.pull_request` filters.");

/** One entry of `on.schedule`: a 5-field UTC cron expression and the branch whose head a tick runs. */
const ScheduleEntry = z
  .strictObject({
    cron: z
      .string()
      .superRefine((cron, ctx) => {
        const problem = cronProblem(cron);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe("5-field cron expression, evaluated in UTC, e.g. '*/15 * * * *'."),
    branch: z
      .string()
      .min(1)
      .refine((name) => refNameProblem(name) === undefined, { message: "not a valid branch name" })
      .optional()
      .describe("Branch whose head commit each tick runs; default: the repository's default branch."),
  })
  .describe("A scheduled tick (GitOps reconciliation).");

/** `push:` with nothing under it (YAML null) means "every push". */
const emptyIsAll = <T extends z.ZodObject>(schema: T) =>
  z.union([
    z
      .null()
      .transform(() => ({}))
      .pipe(schema),
    schema,
  ]);

const Rule = z
  .strictObject({
    name: z.string().min(1),
    repos: Globs.optional().describe("Globs on owner/name; default: every installed repository."),
    on: z
      .strictObject({
        push: emptyIsAll(PushFilter).optional(),
        pull_request: emptyIsAll(PullRequestFilter).optional(),
        schedule: z
          .array(ScheduleEntry)
          .min(1, { message: "give at least one cron entry" })
          .optional()
          .describe("Run the rule's pipelines on a schedule at the branch's head commit; needs `repos`."),
      })
      .refine((on) => on.push !== undefined || on.pull_request !== undefined || on.schedule !== undefined, {
        message: "a rule needs at least one of push, pull_request or schedule",
      }),
    run: z
      .array(z.string().min(1))
      .min(1, { message: "a rule must run at least one pipeline" })
      .describe("Pipelines in order: each runs only if the one before passed."),
    forks: ForksPolicy.default("approve"),
  })
  .describe("When to run which pipelines.");

const Settings = z
  .strictObject({
    statusContext: z
      .string()
      .min(1)
      .max(60)
      .default("deploy-bot")
      .describe('Commit status context prefix: "<statusContext>/<pipeline>".'),
    checks: z
      .boolean()
      .default(false)
      .describe(
        "true: report each pipeline as a check run named <statusContext>/<pipeline> (re-run button, buttons, log tail) instead of a commit status.",
      ),
    timeout: Duration.default("30m").describe("Default pipeline timeout."),
    concurrency: z.int().min(1).max(64).default(2).describe("Runs executing at once per worker."),
    retention: z
      .strictObject({
        days: z.int().min(1).default(30).describe("Finished runs older than this are pruned."),
        runs: z.int().min(1).default(1000).describe("At most this many finished runs are kept."),
      })
      .prefault({}),
  })
  .prefault({});

/** Run outcomes a notification can be sent for (`notifications[].on`). */
export const NOTIFICATION_OUTCOMES = ["started", "succeeded", "failed", "error"] as const;

const Notification = z
  .strictObject({
    name: Name.describe("Names the notification in logs, metrics and `deploy-bot notify test <name>`."),
    slack: EnvName.optional().describe(
      "The NAME of a server environment variable holding a Slack incoming-webhook URL.",
    ),
    webhook: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
          .describe("Where the signed JSON envelope is POSTed."),
        secret: EnvName.describe(
          "The NAME of a server environment variable holding a Standard Webhooks `whsec_...` secret.",
        ),
      })
      .optional()
      .describe("A POST signed per Standard Webhooks."),
    on: z
      .array(z.enum(NOTIFICATION_OUTCOMES))
      .min(1)
      .default(["failed", "error"])
      .describe("Run outcomes that send this notification."),
    pipelines: Globs.optional().describe("Globs on the pipeline name."),
    environments: Globs.optional().describe("Globs on the environment (runs without one never match)."),
    repos: Globs.optional().describe("Globs on owner/name."),
    branches: Globs.optional().describe("Globs on the branch (a pull request's head branch)."),
  })
  .refine((n) => (n.slack === undefined) !== (n.webhook === undefined), {
    message: "give exactly one of slack or webhook",
  })
  .describe("Where to tell which run outcomes.");

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1, { message: "version must be 1" }),
    settings: Settings,
    pipelines: z.record(Name, Pipeline),
    rules: z.array(Rule).default([]),
    notifications: z.array(Notification).default([]),
  })
  // Runs even when other parts of the file are invalid (`when`), so one pass reports every problem; it
  // therefore reads the value defensively.
  .superRefine((config, ctx) => crossCheck(config, ctx.addIssue), { when: () => true });

type AddIssue = (issue: { code: "custom"; path: (string | number)[]; message: string }) => void;
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Checks that need the whole file: rule → pipeline references and duplicate rule/step names. */
function crossCheck(config: unknown, addIssue: AddIssue): void {
  if (!isRecord(config)) return;
  const pipelines = isRecord(config.pipelines) ? config.pipelines : undefined;
  const pipelineNames = Object.keys(pipelines ?? {});
  const ruleNames = new Set<string>();
  listOf(config.rules).forEach((rule, r) => {
    if (!isRecord(rule)) return;
    if (typeof rule.name === "string") {
      if (ruleNames.has(rule.name)) {
        addIssue({
          code: "custom",
          path: ["rules", r, "name"],
          message: `duplicate rule name "${rule.name}"`,
        });
      }
      ruleNames.add(rule.name);
    }
    const run = listOf(rule.run);
    run.forEach((name, i) => {
      if (typeof name !== "string" || name === "") return;
      if (pipelines && !Object.hasOwn(pipelines, name)) {
        const known = pipelineNames.length > 0 ? ` (pipelines: ${pipelineNames.join(", ")})` : "";
        addIssue({
          code: "custom",
          path: ["rules", r, "run", i],
          message: `unknown pipeline "${name}"${known}`,
        });
      } else if (run.indexOf(name) !== i) {
        addIssue({
          code: "custom",
          path: ["rules", r, "run", i],
          message: `pipeline "${name}" is listed twice`,
        });
      }
    });
    const on = isRecord(rule.on) ? rule.on : {};
    if (on.schedule !== undefined) {
      const problem = scheduleReposProblem(rule.repos);
      if (problem) addIssue({ code: "custom", path: ["rules", r, ...problem.at], message: problem.message });
    }
    for (const [event, filter] of Object.entries(on)) {
      if (!isRecord(filter)) continue;
      for (const key of ["branches", "tags", "paths"] as const) {
        if (key in filter && `${key}-ignore` in filter) {
          addIssue({
            code: "custom",
            path: ["rules", r, "on", event, `${key}-ignore`],
            message: `use either ${key} or ${key}-ignore, not both (use "!" patterns in ${key} instead)`,
          });
        }
      }
    }
  });
  const notificationNames = new Set<string>();
  listOf(config.notifications).forEach((notification, n) => {
    if (!isRecord(notification) || typeof notification.name !== "string") return;
    if (notificationNames.has(notification.name)) {
      addIssue({
        code: "custom",
        path: ["notifications", n, "name"],
        message: `duplicate notification name "${notification.name}"`,
      });
    }
    notificationNames.add(notification.name);
  });
  for (const [name, pipeline] of Object.entries(pipelines ?? {})) {
    if (!isRecord(pipeline)) continue;
    if (pipeline.production !== undefined && pipeline.environment === undefined) {
      addIssue({
        code: "custom",
        path: ["pipelines", name, "production"],
        message: "production needs an environment (it marks that environment's Deployments)",
      });
    }
    for (const key of ["manual", "deployers"] as const) {
      if (pipeline[key] !== undefined && pipeline[key] !== false && pipeline.environment === undefined)
        addIssue({
          code: "custom",
          path: ["pipelines", name, key],
          message: `${key} needs an environment: commands deploy environments (add environment: <name>)`,
        });
    }
    const stepNames = new Set<string>();
    listOf(pipeline.steps).forEach((step, s) => {
      if (!isRecord(step) || typeof step.name !== "string") return;
      if (stepNames.has(step.name)) {
        addIssue({
          code: "custom",
          path: ["pipelines", name, "steps", s, "name"],
          message: `duplicate step name "${step.name}"`,
        });
      }
      stepNames.add(step.name);
    });
  }
}

/**
 * A scheduled rule names the repositories it covers (a tick has no webhook to say which): `repos` is
 * required and each entry is one `owner/name`, not a glob.
 */
function scheduleReposProblem(repos: unknown): { at: (string | number)[]; message: string } | undefined {
  if (repos === undefined) {
    return { at: ["on", "schedule"], message: "a rule with a schedule needs repos: [owner/name, ...]" };
  }
  for (const [i, repo] of listOf(repos).entries()) {
    if (typeof repo === "string" && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) {
      return {
        at: ["repos", i],
        message: `a rule with a schedule names each repository as owner/name, not a pattern: ${JSON.stringify(repo)}`,
      };
    }
  }
  return undefined;
}

export type Config = z.output<typeof ConfigSchema>;
export type PipelineConfig = Config["pipelines"][string];
export type RuleConfig = Config["rules"][number];
export type PushFilterConfig = NonNullable<RuleConfig["on"]["push"]>;
export type PullRequestFilterConfig = NonNullable<RuleConfig["on"]["pull_request"]>;
export type ForksPolicy = RuleConfig["forks"];
export type NotificationConfig = Config["notifications"][number];
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];
