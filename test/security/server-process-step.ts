/**
 * A stand-in for the server process, for `step-environment.test.ts`: it executes one fork pull request's
 * run with `executeRun` exactly as `start-app.ts` wires it — `serverEnv` is this process's own environment,
 * which holds the App key, the webhook secret and every pipeline's secrets — and prints
 * `{ outcome, log }` as JSON on stdout.
 *
 * Usage: node server-process-step.ts <json: { cloneUrl, sha, root, config }>
 */
import { parseConfig } from "../../src/config/load-config.ts";
import type { PullRequestEvent } from "../../src/events/deploy-event.ts";
import { memoryLogSink } from "../../src/exec/capture-log.ts";
import { createWorkspaces } from "../../src/exec/workspace.ts";
import { executeRun } from "../../src/flow/execute-run.ts";
import type { RunRecord } from "../../src/runs/run.ts";

const input = JSON.parse(process.argv[2] ?? "{}") as {
  cloneUrl: string;
  sha: string;
  root: string;
  config: string;
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

const logs = memoryLogSink();
const outcome = await executeRun(
  {
    config: () => config,
    workspaces: createWorkspaces({ root: input.root, allowFileUrls: true }),
    installationToken: async () => "ghs_serverProcessToken000000000000000",
    serverEnv: process.env,
  },
  run,
  { signal: new AbortController().signal, logs, onStep: () => {} },
);
await new Promise((resolve) => setTimeout(resolve, 300)); // the capture delivers its last batch on a timer
process.stdout.write(JSON.stringify({ outcome, log: [...logs.text.values()].join("") }));
