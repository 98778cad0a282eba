/**
 * `deploy-bot run <pipeline> [--dir DIR] [--config FILE] [--env-from-server]`: runs one pipeline of the
 * config against a local checkout, no GitHub needed, with the same environment contract and masking as
 * the server — how a user tries a pipeline before wiring the App.
 *
 * Exit codes: 0 passed; 1 failed, timed out, cancelled or could not start a step; 2 usage or config error.
 * `--env-from-server` passes the calling shell's whole environment to the steps (a local convenience for
 * tools that need more than PATH/HOME/LANG); without it steps see exactly what they would see on the server.
 * Steps run in the step sandbox as on the server (`STEP_SANDBOX`, default `auto`; nothing is hidden locally).
 */

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { formatDuration, parseDuration } from "../config/duration.ts";
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import { consoleLogSink } from "../exec/capture-log.ts";
import { runPipeline } from "../exec/run-pipeline.ts";
import { parseSandboxMode, setUpStepSandbox } from "../exec/sandbox.ts";
import type { StepRecord } from "../runs/run.ts";

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

const USAGE = "usage: deploy-bot run <pipeline> [--dir DIR] [--config FILE] [--env-from-server]";

/** `DEPLOYBOT_*` for a local run, from the checkout's git metadata where there is any (event `local`). */
export async function localVars(
  dir: string,
  pipeline: string,
  environment: string | undefined,
): Promise<Record<string, string>> {
  const git = async (...args: string[]) => {
    const result = await execa("git", args, { cwd: dir, reject: false, extendEnv: true });
    return result.exitCode === 0 ? String(result.stdout).trim() : "";
  };
  const sha = await git("rev-parse", "HEAD");
  const branch = await git("symbolic-ref", "--quiet", "--short", "HEAD");
  const remote = await git("remote", "get-url", "origin");
  const fromRemote = /[:/]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(remote)?.[1];
  const vars: Record<string, string> = {
    DEPLOYBOT_EVENT: "local",
    DEPLOYBOT_ACTION: "local",
    DEPLOYBOT_REPO: fromRemote ?? path.basename(path.resolve(dir)),
    DEPLOYBOT_SHA: sha,
    DEPLOYBOT_REF: branch ? `refs/heads/${branch}` : sha,
    DEPLOYBOT_PIPELINE: pipeline,
    DEPLOYBOT_RUN_ID: `local-${Date.now().toString(36)}`,
    DEPLOYBOT_DELIVERY_ID: "local",
  };
  if (branch) vars.DEPLOYBOT_BRANCH = branch;
  if (environment) vars.DEPLOYBOT_ENVIRONMENT = environment;
  return vars;
}

/** The summary printed after the run: one row per step with its state and duration. */
export function summaryTable(steps: readonly StepRecord[]): string {
  const rows = steps.map((s) => [
    s.name,
    s.state,
    s.startedAt && s.finishedAt ? formatDuration(s.finishedAt.getTime() - s.startedAt.getTime()) : "-",
  ]);
  const all = [["step", "state", "duration"], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Entry point called by the dispatcher (`src/cli/main.ts`); returns the exit code. */
export async function runCommand(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const name = positionals[0];
  if (!name || positionals.length > 1) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const configFile = path.resolve(io.cwd, values.config ?? io.env.DEPLOY_CONFIG ?? "deploy.config.yaml");
  const loaded = await loadConfig(configFile);
  if (!loaded.ok) {
    for (const error of loaded.errors) io.stderr.write(`${formatConfigError(error)}\n`);
    return 2;
  }
  const pipeline = loaded.config.pipelines[name];
  if (!pipeline) {
    const known = Object.keys(loaded.config.pipelines).join(", ");
    io.stderr.write(`no pipeline "${name}" in ${configFile} (pipelines: ${known})\n`);
    return 2;
  }
  const mode = parseSandboxMode(io.env.STEP_SANDBOX);
  if (!mode) {
    io.stderr.write(`STEP_SANDBOX: auto, required or off, not ${JSON.stringify(io.env.STEP_SANDBOX)}\n`);
    return 2;
  }
  const sandbox = await setUpStepSandbox(mode, []);
  if (!sandbox.ok) {
    io.stderr.write(`${sandbox.error}\n`);
    return 2;
  }
  if (sandbox.unavailable)
    io.stderr.write(
      `warning: the step sandbox is unavailable (${sandbox.unavailable}); steps run without it\n`,
    );
  const dir = path.resolve(io.cwd, values.dir ?? ".");
  const secrets: Record<string, string> = {};
  for (const secret of pipeline.secrets) {
    const value = io.env[secret];
    if (value === undefined) io.stderr.write(`warning: secret ${secret} is not set in the environment\n`);
    else secrets[secret] = value;
  }
  const vars = await localVars(dir, name, pipeline.environment);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  const total = pipeline.steps.length;
  // DEPLOYBOT_OUTPUT files live outside the checkout, as on the server.
  const outputDir = await mkdtemp(path.join(os.tmpdir(), "deploy-bot-output-"));
  try {
    const result = await runPipeline({
      name,
      pipeline,
      cwd: dir,
      vars,
      secrets,
      serverEnv: io.env,
      ...(values["env-from-server"] ? { passThroughEnv: io.env } : {}),
      defaultTimeoutMs: parseDuration(loaded.config.settings.timeout),
      signal: controller.signal,
      ...(sandbox.sandbox ? { sandbox: sandbox.sandbox } : {}),
      logs: consoleLogSink(io.stdout),
      outputDir,
      onStep: (update) => {
        if (update.state === "running") io.stderr.write(`▶ [${update.index + 1}/${total}] ${update.name}\n`);
      },
    });
    io.stdout.write(
      `\n${summaryTable(result.steps)}\n\n${result.state === "passed" ? "✔" : "✖"} ${name}: ${result.detail} (${formatDuration(result.durationMs)})\n`,
    );
    if (result.environmentUrl) io.stdout.write(`Environment URL: ${result.environmentUrl}\n`);
    return result.state === "passed" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
    await rm(outputDir, { recursive: true, force: true });
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      config: { type: "string" },
      "env-from-server": { type: "boolean" },
    },
  });
}
