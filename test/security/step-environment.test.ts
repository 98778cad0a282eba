/**
 * Issue 7, "Secrets" and "Configuration is the operator's": what a step can see. Runs go through
 * `executeRun` against a real local git remote, with the store's log sink, and the assertions read the log
 * as it was stored (what the run page and PR comment would show).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createBareRemote,
  createForkPullRequest,
  createRepo,
  makeTempDir,
  removeTempDirs,
} from "../helpers/git-remote.ts";
import {
  configOf,
  executeHarness,
  localPushEvent,
  logLines,
  openTestStore,
  recordRun,
  type TestStore,
} from "./security-harness.ts";

const INSTALLATION_TOKEN = "ghs_installationTOKEN0123456789abcdefABCD";
const DEPLOY_TOKEN = "deploy-SECRET-value-51f0c2d9";
const FAKE_SERVER_SECRETS = {
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nMIIEfakeAPPkeyLINE0123456789\n-----END RSA PRIVATE KEY-----",
  WEBHOOK_SECRET: "webhook-hmac-secret-9d8c7b6a",
  GITHUB_TOKEN: "ghp_serverGITHUBtoken00000000000000",
  AWS_SECRET_ACCESS_KEY: "aws/SECRET+access+KEY+4b3a2910",
  DATABASE_URL: "postgres://deploybot:db-password-e5f6@db.internal:5432/deploybot",
};

const serverEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: "C",
  DEPLOY_TOKEN,
  ...FAKE_SERVER_SECRETS,
};

/** The operator's config: the only one deploy-bot reads. */
const operatorConfig = (marker: string) =>
  configOf(`
version: 1
pipelines:
  env-dump:
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: Print env
        run: [env]
        env: { STEP_VAR: from-the-operator }
  split:
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: Print in pieces
        run: |
          printf '%s' "\${DEPLOY_TOKEN:0:5}"
          sleep 0.3
          printf '%s\\n' "\${DEPLOY_TOKEN:5}"
          printf '%s' "\${DEPLOY_TOKEN:0:12}" >&2
          sleep 0.3
          printf '%s\\n' "\${DEPLOY_TOKEN:12}" >&2
  test:
    steps:
      - name: Operator step
        run: echo operator-step-ran; test ! -e ${marker}
rules:
  - name: main
    on:
      push:
        branches: [main]
    run: [test]
`);

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(async () => {
  await t.close();
});
afterAll(removeTempDirs);

async function remoteWith(files: Record<string, string> = {}) {
  const work = await createRepo({ "README.md": "hello\n", ...files });
  const remote = await createBareRemote(work);
  return { remote, sha: await work.head() };
}

const ALLOWED = new Set(["PATH", "HOME", "LANG", "CI", "STEP_VAR", "DEPLOY_TOKEN"]);

describe("what a step sees", () => {
  // Guards: step-env `buildStepEnv` (allow-list PATH/HOME/LANG, never the server's environment) and
  // run-step's `extendEnv: false`; execute-run never passes the installation token to a step.
  it("gives a step printing `env` only the contract's variables: no server secret, no token", async () => {
    const marker = path.join(await makeTempDir(), "unused");
    const config = operatorConfig(marker);
    const { remote, sha } = await remoteWith();
    const run = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), "env-dump");
    const { outcome, log } = await executeHarness(t).execute(run, {
      config,
      serverEnv,
      token: INSTALLATION_TOKEN,
    });
    expect(outcome.state).toBe("passed");

    const vars = new Map(
      logLines(log).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const unexpected = [...vars.keys()].filter(
      (name) => !ALLOWED.has(name) && !name.startsWith("DEPLOYBOT_"),
    );
    expect(unexpected).toEqual([]);
    expect(vars.get("CI")).toBe("true");
    expect(vars.get("DEPLOY_TOKEN")).toBe("***");
    expect(vars.get("DEPLOYBOT_SHA")).toBe(sha);
    expect(vars.get("DEPLOYBOT_PIPELINE")).toBe("env-dump");
    for (const name of Object.keys(FAKE_SERVER_SECRETS)) expect(vars.has(name)).toBe(false);
    for (const value of [...Object.values(FAKE_SERVER_SECRETS), INSTALLATION_TOKEN, DEPLOY_TOKEN]) {
      expect(log).not.toContain(value);
    }
    expect(log).not.toContain("db-password-e5f6");
    expect(log).not.toContain(Buffer.from(`x-access-token:${INSTALLATION_TOKEN}`).toString("base64"));
  });

  // Guards: mask-secrets `createMasker` carry (a secret split across two output chunks, on stdout and on
  // stderr, is still masked; neither half reaches the stored log).
  it("masks a secret printed in pieces with a pause between them", async () => {
    const config = operatorConfig("/nonexistent");
    const { remote, sha } = await remoteWith();
    const run = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), "split");
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });
    expect(outcome.state).toBe("passed");
    expect(logLines(log)).toEqual(["***", "***"]);
    expect(log).not.toContain(DEPLOY_TOKEN.slice(0, 5));
    expect(log).not.toContain(DEPLOY_TOKEN.slice(5));
    expect(log).not.toContain(DEPLOY_TOKEN.slice(12));
  });

  // Guards: execute-run step 1 (the pipeline comes from the operator's config, never from the checkout):
  // a repository's own deploy.config.yaml cannot add steps or secrets.
  it("ignores a deploy.config.yaml committed in the repository being built", async () => {
    const outside = await makeTempDir();
    const marker = path.join(outside, "repo-config-step-ran");
    const hostile = `version: 1
pipelines:
  test:
    secrets: [AWS_SECRET_ACCESS_KEY, WEBHOOK_SECRET]
    steps:
      - name: Hostile step
        run: touch ${marker}; echo "aws=$AWS_SECRET_ACCESS_KEY" > ${marker}
rules:
  - name: everything
    on:
      push: {}
    run: [test]
`;
    const config = operatorConfig(marker);
    const { remote, sha } = await remoteWith({
      "deploy.config.yaml": hostile,
      ".github/deploy.config.yaml": hostile,
    });
    const run = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), "test");
    expect(run.steps.map((step) => step.name)).toEqual(["Operator step"]);
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });
    expect(outcome).toEqual({ state: "passed", detail: "Passed" });
    expect(logLines(log)).toEqual(["operator-step-ran"]);
    expect(existsSync(marker)).toBe(false);
    expect(log).not.toContain(FAKE_SERVER_SECRETS.AWS_SECRET_ACCESS_KEY);
  });

  // HOLE (not fixable here, see the report): steps run as the bot's OS user, so a step can read the server
  // process's own environment through /proc/$PPID/environ — the App's PRIVATE_KEY, WEBHOOK_SECRET and every
  // pipeline's declared secrets — even in a fork run, which "never receives secrets". `buildStepEnv`'s
  // allow-list cannot help: the leak is through the file system, not the step's environment. Marked
  // `it.fails` until steps run isolated from the server process (another uid, a sandbox, or a worker whose
  // environment holds no App credentials); remove `.fails` then.
  it.fails("keeps the server process's environment from a fork run's step that reads /proc/$PPID/environ", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const fork = await createForkPullRequest(remote, 9, { "innocent.txt": "nothing to see\n" });
    const stepConfig = `version: 1
pipelines:
  test:
    steps:
      - name: Read the parent's environment
        run: tr '\\0' '\\n' < /proc/$PPID/environ || true
  deploy-production:
    secrets: [PRODUCTION_DEPLOY_TOKEN]
    steps:
      - name: Deploy
        run: 'true'
rules:
  - name: prs
    on:
      pull_request: {}
    run: [test]
    forks: run
`;
    const script = fileURLToPath(new URL("./server-process-step.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        script,
        JSON.stringify({
          cloneUrl: remote.fileUrl,
          sha: fork.sha,
          root: await makeTempDir(),
          config: stepConfig,
        }),
      ],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          LANG: "C",
          PRIVATE_KEY: FAKE_SERVER_SECRETS.PRIVATE_KEY,
          WEBHOOK_SECRET: FAKE_SERVER_SECRETS.WEBHOOK_SECRET,
          PRODUCTION_DEPLOY_TOKEN: "production-deploy-TOKEN-0a1b2c",
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const { outcome, log } = JSON.parse(stdout) as { outcome: { state: string }; log: string };
    expect(outcome.state).toBe("passed");
    expect(log).not.toContain("MIIEfakeAPPkeyLINE0123456789");
    expect(log).not.toContain(FAKE_SERVER_SECRETS.WEBHOOK_SECRET);
    expect(log).not.toContain("production-deploy-TOKEN-0a1b2c");
  });
});
