/**
 * A stand-in for the server process, for `step-environment.test.ts`: it executes one fork pull request's
 * run with `executeRun` exactly as `boot.ts` and `start-app.ts` wire it — `serverEnv` is this process's own
 * environment, which holds the App key, the webhook secret and every pipeline's secrets; `root` plays
 * `DATA_DIR` (workspaces under `root/workspaces`, the embedded database's directory `root/db`); the step
 * sandbox is set up from `STEP_SANDBOX` (default `auto`) with the hidden paths the server uses — and
 * prints `{ outcome, log, sandboxed }` as JSON on stdout.
 *
 * Usage: node server-process-step.ts <json: { cloneUrl, sha, root, config, envFile? }>
 */
import path from "node:path";
import { parseConfig } from "../../src/config/load-config.ts";
import type { PullRequestEvent } from "../../src/events/deploy-event.ts";
import { memoryLogSink } from "../../src/exec/capture-log.ts";
import { parseSandboxMode, serverHiddenPaths, setUpStepSandbox } from "../../src/exec/sandbox.ts";
import { createWorkspaces } from "../../src/exec/workspace.ts";
import { executeRun } from "../../src/flow/execute-run.ts";
import type { RunRecord } from "../../src/runs/run.ts";

const input = JSON.parse(process.argv[2] ?? "{}") as {
  cloneUrl: string;
  sha: string;
  root: string;
  config: string;
  envFile?: string;
};
const parsed = parseConfig(input.config, "deploy.config.yaml");
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const config = parsed.config;

const event: PullRequestEvent = {
  kind: "pull_request",
  action: "opened",
  deliveryId: "fork-delivery",
  repo: { owner: "acme", name: "app", fullName: "acme/app", cloneUrl: input.cloneUrl, private: false },
  installationId: 1,
  sha: input.sha,
  ref: "refs/pull/9/head",
  changedFiles: { known: false, reason: "not listed" },
  sender: "stranger",
  prNumber: 9,
  branch: "feature",
  tag: undefined,
  baseBranch: "main",
  title: "Harmless change",
  draft: false,
  fork: true,
  headRepoFullName: "stranger/app",
  labels: [],
};
const run: RunRecord = {
  id: "forkRunId_000000000000",
  deliveryId: event.deliveryId,
  pipeline: "test",
  environment: null,
  needs: [],
  state: "running",
  detail: null,
  event,
  steps: [],
  createdAt: new Date(),
  startedAt: new Date(),
  finishedAt: null,
};

// As boot.ts does it.
const mode = parseSandboxMode(process.env.STEP_SANDBOX);
if (!mode) throw new Error(`bad STEP_SANDBOX ${process.env.STEP_SANDBOX}`);
const sandbox = await setUpStepSandbox(
  mode,
  serverHiddenPaths({
    dataDir: input.root,
    privateKeyPath: process.env.PRIVATE_KEY_PATH,
    envFile: input.envFile,
  }),
);
if (!sandbox.ok) throw new Error(sandbox.error);
if (sandbox.warning) process.stderr.write(`${sandbox.warning}\n`);

const logs = memoryLogSink();
const outcome = await executeRun(
  {
    config: () => config,
    workspaces: createWorkspaces({ root: path.join(input.root, "workspaces"), allowFileUrls: true }),
    installationToken: async () => "ghs_serverProcessToken000000000000000",
    serverEnv: process.env,
    sandbox: sandbox.sandbox,
  },
  run,
  { signal: new AbortController().signal, logs, onStep: () => {} },
);
await new Promise((resolve) => setTimeout(resolve, 300)); // the capture delivers its last batch on a timer
process.stdout.write(
  JSON.stringify({
    outcome,
    log: [...logs.text.values()].join(""),
    sandboxed: sandbox.sandbox !== undefined,
  }),
);
