/**
 * Runs a pipeline's steps in order against a checkout and says, in a typed result, how it ended:
 * `passed`, `failed` (a step exited non-zero), `timed_out`, `cancelled`, or `error` (a step could not
 * start). Failed and timed out are the user's pipeline; error and cancelled are not (error is not failure).
 */

import { formatDuration, parseDuration } from "../config/duration.ts";
import type { PipelineConfig } from "../config/schema.ts";
import type { StepRecord, StepState, StepUpdate } from "../runs/run.ts";
import { createLogCapture, type LogSink } from "./capture-log.ts";
import type { StepGuard } from "./kill-orphans.ts";
import { maskText } from "./mask-secrets.ts";
import { resolveWorkdir } from "./resolve-workdir.ts";
import { runStep, type StepOutcome } from "./run-step.ts";
import type { StepSandbox } from "./sandbox.ts";
import { findOnPath, stepCommand } from "./step-command.ts";
import { buildStepEnv } from "./step-env.ts";
import { freshOutputFile, readStepOutput } from "./step-output.ts";

export type PipelineState = "passed" | "failed" | "timed_out" | "cancelled" | "error";

export interface PipelineResult {
  readonly state: PipelineState;
  readonly steps: StepRecord[];
  readonly durationMs: number;
  /** Why, in words, without secrets: `Unit tests exited with 1`, `Timed out: Deploy after 10m`, `Passed`. */
  readonly detail: string;
  readonly failedStepIndex: number | null;
  /** The last `environment_url` a step wrote to `DEPLOYBOT_OUTPUT`. */
  readonly environmentUrl?: string;
}

export interface RunPipelineOptions {
  readonly name: string;
  readonly pipeline: PipelineConfig;
  /** The checkout; every step's `workdir` must stay inside it. */
  readonly cwd: string;
  /** `DEPLOYBOT_*` variables (see `deployBotVars`). */
  readonly vars: Record<string, string>;
  /** Declared secret values by name; masked in all output. */
  readonly secrets: Record<string, string>;
  /** Source of PATH, HOME and LANG only; defaults to `process.env`. */
  readonly serverEnv?: NodeJS.ProcessEnv;
  /** Used when neither the step nor the pipeline sets a timeout (`settings.timeout`). */
  readonly defaultTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly logs: LogSink;
  /** A finished step's update carries what it reported through `DEPLOYBOT_OUTPUT` (`environmentUrl`). */
  readonly onStep?: (update: StepRecord & Pick<StepUpdate, "environmentUrl">) => void;
  /**
   * A directory outside the checkout for the steps' `DEPLOYBOT_OUTPUT` files (one fresh file per step);
   * without it steps get no `DEPLOYBOT_OUTPUT`.
   */
  readonly outputDir?: string;
  /** Between SIGTERM and SIGKILL; default 5 s. */
  readonly killGraceMs?: number;
  /** Only for the local CLI (`--env-from-server`): the caller's whole environment, lowest precedence. */
  readonly passThroughEnv?: NodeJS.ProcessEnv;
  /** Extra values to mask (e.g. the installation token), always masked whatever their length. */
  readonly tokens?: readonly string[];
  /** Runs every step in this sandbox (see `sandbox.ts`); without one, steps are plain child processes. */
  readonly sandbox?: StepSandbox;
  /** How each step's process group is started and recorded (see `kill-orphans.ts`). */
  readonly guard?: StepGuard | undefined;
}

export const DEFAULT_KILL_GRACE_MS = 5000;

/** Runs the steps in order; later steps after one that did not pass are `skipped`. Never throws for a step. */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineResult> {
  const { pipeline } = options;
  const startedAt = Date.now();
  const serverEnv = options.serverEnv ?? process.env;
  const pipelineTimeoutMs = pipeline.timeout ? parseDuration(pipeline.timeout) : options.defaultTimeoutMs;
  const deadline = startedAt + pipelineTimeoutMs;
  const mask = { secrets: Object.values(options.secrets), tokens: options.tokens ?? [] };
  const steps: StepRecord[] = pipeline.steps.map((step, index) => ({
    index,
    name: step.name,
    state: "pending",
    exitCode: null,
    startedAt: null,
    finishedAt: null,
  }));
  const update = (next: StepRecord & Pick<StepUpdate, "environmentUrl">): void => {
    steps[next.index] = next;
    options.onStep?.(next);
  };

  let state: PipelineState = "passed";
  let detail = "Passed";
  let failedStepIndex: number | null = null;
  let environmentUrl: string | undefined;

  for (const [index, step] of pipeline.steps.entries()) {
    const current = steps[index];
    if (!current) continue;
    if (state !== "passed") {
      update({ ...current, state: "skipped" });
      continue;
    }
    const stepStarted = new Date();
    update({ ...current, state: "running", startedAt: stepStarted });
    const capture = createLogCapture({
      stepIndex: index,
      sink: options.logs,
      mask,
      startedAt: stepStarted.getTime(),
    });
    let outputFile: string | undefined;
    if (options.outputDir !== undefined) {
      try {
        outputFile = await freshOutputFile(options.outputDir, index);
      } catch (error) {
        capture.note(`deploy-bot: no DEPLOYBOT_OUTPUT for this step: ${(error as Error).message}`);
      }
    }
    const env = buildStepEnv({
      serverEnv,
      vars: outputFile ? { ...options.vars, DEPLOYBOT_OUTPUT: outputFile } : options.vars,
      pipelineEnv: pipeline.env,
      stepEnv: step.env,
      secrets: options.secrets,
      ...(options.passThroughEnv ? { passThroughEnv: options.passThroughEnv } : {}),
    });
    const stepTimeoutMs = step.timeout ? parseDuration(step.timeout) : pipelineTimeoutMs;
    const remainingMs = deadline - Date.now();
    const pipelineBound = !step.timeout || remainingMs < stepTimeoutMs;

    let outcome: StepOutcome;
    const workdir = await resolveWorkdir(options.cwd, step.workdir);
    if (!workdir.ok) outcome = { kind: "error", message: workdir.reason };
    else if (remainingMs <= 0) outcome = { kind: "timed_out" };
    else {
      outcome = await runStep({
        command: stepCommand(step.run, findOnPath("bash", env.PATH)),
        cwd: workdir.dir,
        env,
        timeoutMs: Math.min(stepTimeoutMs, remainingMs),
        killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        capture,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.sandbox ? { sandbox: options.sandbox } : {}),
        guard: options.guard,
      });
    }
    if (outcome.kind === "error")
      capture.note(`deploy-bot: ${step.name} could not start: ${outcome.message}`);
    const output = outputFile ? await readStepOutput(outputFile, mask) : { problems: [] };
    for (const problem of output.problems) capture.note(`deploy-bot: DEPLOYBOT_OUTPUT: ${problem}`);
    if (output.environmentUrl !== undefined) environmentUrl = output.environmentUrl;
    capture.end();

    const finishedAt = new Date();
    const exitCode = outcome.kind === "exited" ? outcome.exitCode : null;
    const stepState = stepStateOf(outcome);
    update({
      ...current,
      state: stepState,
      exitCode,
      startedAt: stepStarted,
      finishedAt,
      ...(output.environmentUrl === undefined ? {} : { environmentUrl: output.environmentUrl }),
    });
    if (stepState === "passed") continue;
    state =
      stepState === "skipped" || stepState === "pending" || stepState === "running" ? "error" : stepState;
    failedStepIndex = index;
    detail = maskText(
      describe(step.name, outcome, pipelineBound ? { pipeline: pipelineTimeoutMs } : { step: stepTimeoutMs }),
      mask,
    );
  }
  return {
    state,
    steps,
    durationMs: Date.now() - startedAt,
    detail,
    failedStepIndex,
    ...(environmentUrl === undefined ? {} : { environmentUrl }),
  };
}

function stepStateOf(outcome: StepOutcome): StepState {
  switch (outcome.kind) {
    case "exited":
      return outcome.exitCode === 0 ? "passed" : "failed";
    case "signalled":
      return "failed";
    case "timed_out":
      return "timed_out";
    case "cancelled":
      return "cancelled";
    case "error":
      return "error";
  }
}

/** The human reason for a step that did not pass. */
function describe(name: string, outcome: StepOutcome, timeout: { pipeline?: number; step?: number }): string {
  switch (outcome.kind) {
    case "exited":
      return `${name} exited with ${outcome.exitCode}`;
    case "signalled":
      return `${name} was killed by ${outcome.signal}`;
    case "timed_out":
      return timeout.pipeline !== undefined
        ? `Timed out: ${name} after ${formatDuration(timeout.pipeline)} (pipeline timeout)`
        : `Timed out: ${name} after ${formatDuration(timeout.step ?? 0)}`;
    case "cancelled":
      return "Cancelled";
    case "error":
      return `${name} could not start: ${outcome.message}`;
  }
}
