/**
 * Issue 7, "Secrets" and "Configuration is the operator's": what a step can see. Runs go through
 * `executeRun` against a real local git remote, with the store's log sink, and the assertions read the log
 * as it was stored (what the run page and PR comment would show).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
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

  // Guards: sandbox.ts (a PID namespace with its own /proc, hidden paths mounted over) as boot.ts sets it up
  // and execute-run → run-pipeline → run-step pass it on. Steps run as the bot's OS user, so without the
  // sandbox a step reads the server process's own environment through /proc/$PPID/environ — the App's
  // PRIVATE_KEY, WEBHOOK_SECRET and every pipeline's declared secrets — even in a fork run, which "never
  // receives secrets"; `buildStepEnv`'s allow-list cannot help, the leak is through the file system. The
  // next test shows the same step does read them when the sandbox is off.
  it("keeps the server process's environment from a fork run's step that reads /proc/$PPID/environ", async () => {
    const { outcome, log, sandboxed, files } = await runForkStepInServerProcess("auto");
    expect(sandboxed).toBe(true);
    expect(outcome.state).toBe("passed");
    expect(log).toContain("environ-read-attempted");
    for (const leaked of [
      "MIIEfakeAPPkeyLINE0123456789",
      FAKE_SERVER_SECRETS.WEBHOOK_SECRET,
      "production-deploy-TOKEN-0a1b2c",
      files.key,
      files.env,
      files.db,
    ])
      expect(log).not.toContain(leaked);
  });

  // Guards: that the test above can fail — STEP_SANDBOX=off is the documented fallback, and there the hole
  // is open (SECURITY.md, "What is not covered").
  it("with STEP_SANDBOX=off, the same step still reads the server's environment and files", async () => {
    const { outcome, log, sandboxed, files } = await runForkStepInServerProcess("off");
    expect(sandboxed).toBe(false);
    expect(outcome.state).toBe("passed");
    expect(log).toContain("MIIEfakeAPPkeyLINE0123456789");
    expect(log).toContain(FAKE_SERVER_SECRETS.WEBHOOK_SECRET);
    expect(log).toContain("production-deploy-TOKEN-0a1b2c");
    expect(log).toContain(files.key);
    expect(log).toContain(files.env);
    expect(log).toContain(files.db);
  });
});

/**
 * Runs a fork pull request's hostile step in a separate process that plays the server (its environment
 * holds the App key, the webhook secret and a pipeline's secret; its DATA_DIR holds the database, the key
 * file and `.env`), with `STEP_SANDBOX=mode`. The step reads its parent's environment, every other
 * process's, and those files.
 */
async function runForkStepInServerProcess(mode: "auto" | "off") {
  const work = await createRepo();
  const remote = await createBareRemote(work);
  const fork = await createForkPullRequest(remote, 9, { "innocent.txt": "nothing to see\n" });
  const root = await makeTempDir();
  const files = {
    key: "key-FILE-contents-3e4f5a6b",
    env: "dotenv-FILE-contents-7c8d9e0f",
    db: "pg-data-file-1a2b3c4d",
  };
  await writeFile(path.join(root, "app.pem"), `${files.key}\n`);
  await writeFile(path.join(root, ".env"), `${files.env}\n`);
  await mkdir(path.join(root, "db"));
  await writeFile(path.join(root, "db", files.db), "rows\n");
  const stepConfig = `version: 1
pipelines:
  test:
    steps:
      - name: Read the parent's environment
        run: echo environ-read-attempted; tr '\\0' '\\n' < /proc/$PPID/environ || true
      - name: Read every process's environment and the bot's files
        run: |
          for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f" 2>/dev/null || true; done
          cat ${root}/app.pem ${root}/.env || true
          ls -A ${root}/db
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
        root,
        config: stepConfig,
        envFile: path.join(root, ".env"),
      }),
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: "C",
        PRIVATE_KEY: FAKE_SERVER_SECRETS.PRIVATE_KEY,
        PRIVATE_KEY_PATH: path.join(root, "app.pem"),
        WEBHOOK_SECRET: FAKE_SERVER_SECRETS.WEBHOOK_SECRET,
        PRODUCTION_DEPLOY_TOKEN: "production-deploy-TOKEN-0a1b2c",
        STEP_SANDBOX: mode,
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const result = JSON.parse(stdout) as { outcome: { state: string }; log: string; sandboxed: boolean };
  return { ...result, files };
}
