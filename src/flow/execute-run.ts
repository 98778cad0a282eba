/**
 * The worker half of deploy-bot's one flow: queued run → fresh token → exact checkout → steps → result.
 * The queue calls it for one run at a time per slot; reporting happens through the queue's `onRunChanged`.
 * "Error is not failure": a broken checkout or a missing secret ends the run as `error` (the bot could not
 * run it), while a step's non-zero exit is `failed` (your pipeline failed).
 */
import { parseDuration } from "../config/duration.ts";
import type { Config } from "../config/schema.ts";
import type { StepGuard } from "../exec/kill-orphans.ts";
import { type PipelineResult, runPipeline } from "../exec/run-pipeline.ts";
import type { StepSandbox } from "../exec/sandbox.ts";
import { deployBotVars } from "../exec/step-env.ts";
import type { Workspaces } from "../exec/workspace.ts";
import type { ExecuteContext } from "../queue/start-worker.ts";
import type { RunRecord } from "../runs/run.ts";

export interface ExecuteDeps {
  readonly config: () => Config;
  readonly workspaces: Workspaces;
  /**
   * A fresh installation token for this run only, able to read the one repository (`name`, without the
   * owner); it never reaches a step, a log or the database.
   */
  readonly installationToken: (installationId: number, repo: string) => Promise<string>;
  /** Where declared secrets are read from (the server's environment). */
  readonly serverEnv: NodeJS.ProcessEnv;
  /** The step sandbox decided at start-up (`STEP_SANDBOX`); undefined runs steps without it. */
  readonly sandbox?: StepSandbox | undefined;
  /** How a run's steps are started and their process groups recorded, so a killed bot leaves none behind. */
  readonly stepGuard?: ((runId: string) => StepGuard) | undefined;
}

export interface ExecuteOutcome {
  readonly state: PipelineResult["state"];
  readonly detail: string;
}

/** Runs one queued run to its end and says how it ended; it never throws for an expected problem. */
export async function executeRun(
  deps: ExecuteDeps,
  run: RunRecord,
  ctx: ExecuteContext,
): Promise<ExecuteOutcome> {
  const config = deps.config();
  const { event } = run;

  // 1. Find the pipeline in the operator's config (never in the repository being built).
  const pipeline = config.pipelines[run.pipeline];
  if (!pipeline) return { state: "error", detail: `Pipeline "${run.pipeline}" is no longer in the config` };

  // 2. Collect declared secrets from the server's environment; pull requests from forks never get any.
  const secrets: Record<string, string> = {};
  if (!event.fork) {
    for (const name of pipeline.secrets) {
      const value = deps.serverEnv[name];
      if (value === undefined) return { state: "error", detail: `Secret ${name} is not set on the server` };
      secrets[name] = value;
    }
  }

  // 3. Check out the exact commit with a token fetched for this run.
  let token: string | undefined;
  let checkout: Awaited<ReturnType<Workspaces["checkout"]>>;
  try {
    if (event.installationId !== undefined)
      token = await deps.installationToken(event.installationId, event.repo.name);
    checkout = await deps.workspaces.checkout({
      repoFullName: event.repo.fullName,
      cloneUrl: event.repo.cloneUrl,
      sha: event.sha,
      fetchRef: event.kind === "pull_request" ? `refs/pull/${event.prNumber}/head` : event.ref,
      token,
      signal: ctx.signal,
    });
  } catch (error) {
    if (ctx.signal.aborted) return { state: "cancelled", detail: "Cancelled before checkout finished" };
    return { state: "error", detail: `Checkout failed: ${safeMessage(error, token)}` };
  }

  // 4. Run the steps: event data reaches them only as DEPLOYBOT_* variables, never inside the command text.
  try {
    const result = await runPipeline({
      name: run.pipeline,
      pipeline,
      cwd: checkout.dir,
      outputDir: checkout.outputDir,
      vars: deployBotVars(event, { id: run.id, pipeline: run.pipeline, environment: run.environment }),
      secrets,
      serverEnv: deps.serverEnv,
      defaultTimeoutMs: parseDuration(config.settings.timeout),
      signal: ctx.signal,
      logs: ctx.logs,
      onStep: ctx.onStep,
      ...(deps.sandbox ? { sandbox: deps.sandbox } : {}),
      guard: deps.stepGuard?.(run.id),
    });
    return { state: result.state, detail: result.detail };
  } finally {
    // 5. Remove the workspace, whatever happened.
    await checkout.dispose().catch(() => {});
  }
}

/** An error message that is safe to store and post: the token is cut out even if a library echoed it. */
function safeMessage(error: unknown, token: string | undefined): string {
  let message = error instanceof Error ? error.message : String(error);
  if (token) {
    message = message.split(token).join("***");
    message = message.split(Buffer.from(`x-access-token:${token}`).toString("base64")).join("***");
  }
  return message.split("\n")[0]?.slice(0, 200) ?? "unknown error";
}
