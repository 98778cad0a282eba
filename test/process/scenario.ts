/**
 * One end-to-end scenario of the process suite, wired as an operator's installation would be:
 * - the fake GitHub Enterprise Server (`fake-github.ts`) with one installation of the App on `Codertocat`;
 * - a real git remote over smart HTTP (`git http-backend`) that accepts only tokens that fake GitHub issued
 *   for the repository being fetched;
 * - the bot started with `npm start` (`bot-process.ts`), configured only through environment variables:
 *   `GHE_HOST`/`GHE_PROTOCOL` point it at the fake, `DEPLOY_CONFIG` and `DATA_DIR` at temp dirs.
 * `withScenario` always stops everything, then fails on any recorded GitHub violation; a failure message
 * carries the bot's output.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  createRepo,
  type GitHttpServer,
  git,
  makeTempDir,
  serveGitHttp,
  type WorkRepo,
} from "../helpers/git-remote.ts";
import { pullRequestPayload, pushPayload } from "../helpers/webhooks.ts";
import { freePort, type RunningBot, startBot, waitFor } from "./bot-process.ts";
import { type FakeGitHub, type FakeGitHubOptions, type StatusCall, startFakeGitHub } from "./fake-github.ts";

export const OWNER = "Codertocat";
export const REPO = "Hello-World";
export const FULL_NAME = `${OWNER}/${REPO}`;
export const APP_ID = "31337";
export const INSTALLATION_ID = 4242;
export const PR_NUMBER = 2;
export const WEBHOOK_SECRET = "process-suite-webhook-secret-0123";

/** One key pair per test file (per run of the suite): the fake verifies the bot's JWTs with its public half. */
let keyPair: { privateKey: string; publicKey: string } | undefined;
export const appKeyPair = () => {
  keyPair ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return keyPair;
};

export interface Scenario {
  readonly github: FakeGitHub;
  readonly gitServer: GitHttpServer;
  readonly work: WorkRepo;
  readonly cloneUrl: string;
  /** A temp dir the steps and the test share (gate files). */
  readonly scratch: string;
  readonly dataDir: string;
  /** The current bot process (replaced by `restart`). */
  readonly bot: RunningBot;
  /** The environment the bot was started with. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts the bot again with the same environment (same port and data dir); the old one must be gone. */
  restart(): Promise<RunningBot>;
  pushPayload(sha: string, before?: string, branch?: string): Record<string, unknown>;
  prPayload(action: "opened" | "synchronize", sha: string): Record<string, unknown>;
  /** Commits on branch `changes` and publishes it as PR #2's head (`refs/pull/2/head`), as GitHub does. */
  commitPullRequest(files: Record<string, string>): Promise<string>;
  /** Waits until the newest status of every context at `sha` is final; returns each context's statuses. */
  finalStatuses(
    sha: string,
    contexts: readonly string[],
    deadlineMs?: number,
  ): Promise<Map<string, StatusCall[]>>;
}

export interface ScenarioOptions {
  /** The config; a function gets the scratch dir (for gate files the steps use). */
  readonly configYaml: string | ((scratch: string) => string);
  /** More of the bot's environment (receivers' URLs, secrets a config names). */
  readonly env?: Readonly<Record<string, string>>;
  /** GitHub calls the fake fails on purpose (`fake-github.ts`, `faults`). */
  readonly faults?: FakeGitHubOptions["faults"];
}

async function startScenario(
  options: ScenarioOptions,
  cleanups: (() => Promise<unknown>)[],
  bots: RunningBot[],
): Promise<Scenario> {
  const { privateKey, publicKey } = appKeyPair();
  const github = await startFakeGitHub({
    appId: APP_ID,
    publicKey,
    installations: [{ id: INSTALLATION_ID, account: OWNER, repositories: [REPO, "Other-Repo"] }],
    ...(options.faults ? { faults: options.faults } : {}),
  });
  cleanups.push(() => github.close());

  const gitRoot = await makeTempDir("deploy-bot-process-git-");
  cleanups.push(() => rm(gitRoot, { recursive: true, force: true }));
  const bare = path.join(gitRoot, OWNER, `${REPO}.git`);
  await mkdir(path.dirname(bare), { recursive: true });
  await git(gitRoot, "init", "--quiet", "--bare", "--initial-branch=main", bare);
  const work = await createRepo({ "README.md": "hello\n" });
  cleanups.push(() => rm(path.dirname(work.dir), { recursive: true, force: true }));
  await git(work.dir, "remote", "add", "origin", bare);
  await work.push("main");
  const gitServer = await serveGitHttp({
    root: gitRoot,
    authorize: (token, repo) => github.gitAccess(token, repo),
  });
  cleanups.push(() => gitServer.close());
  const cloneUrl = gitServer.url(bare);

  const dataDir = await makeTempDir("deploy-bot-process-data-");
  const scratch = await makeTempDir("deploy-bot-process-scratch-");
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const configFile = path.join(scratch, "deploy.config.yaml");
  await writeFile(
    configFile,
    typeof options.configYaml === "string" ? options.configYaml : options.configYaml(scratch),
  );

  const port = await freePort();
  const env = {
    APP_ID,
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DEPLOY_CONFIG: configFile,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.PROCESS_LOG_LEVEL ?? "info",
    ...options.env,
  };
  const launch = async () => {
    const bot = await startBot({ env, port, webhookSecret: WEBHOOK_SECRET });
    bots.push(bot);
    cleanups.push(() => bot.stop());
    return bot;
  };
  let bot = await launch();

  const patchRepository = (payload: Record<string, unknown>): void => {
    const repository = payload.repository as Record<string, unknown>;
    repository.clone_url = cloneUrl;
    payload.installation = { id: INSTALLATION_ID };
  };

  const scenario: Scenario = {
    github,
    gitServer,
    work,
    cloneUrl,
    scratch,
    dataDir,
    get bot() {
      return bot;
    },
    env,
    async restart() {
      bot = await launch();
      return bot;
    },
    pushPayload(sha, before, branch) {
      return pushPayload(patchRepository, sha, {
        ...(before ? { before } : {}),
        ...(branch ? { branch } : {}),
      });
    },
    prPayload(action, sha) {
      return pullRequestPayload(patchRepository, action, { sha, number: PR_NUMBER, cloneUrl });
    },
    async commitPullRequest(files) {
      await git(work.dir, "checkout", "--quiet", "-B", "changes");
      const sha = await work.commit(files, "pull request change");
      await work.push("+HEAD:refs/heads/changes");
      await work.push(`+HEAD:refs/pull/${PR_NUMBER}/head`);
      return sha;
    },
    finalStatuses(sha, contexts, deadlineMs = 30_000) {
      return waitFor(
        `final statuses of ${contexts.join(", ")} at ${sha.slice(0, 7)}`,
        () => {
          const byContext = new Map<string, StatusCall[]>();
          for (const context of contexts) {
            const mine = github.statuses({ repo: FULL_NAME, sha }).filter((s) => s.context === context);
            if (mine.length === 0 || mine.at(-1)?.state === "pending") return undefined;
            byContext.set(context, mine);
          }
          return byContext;
        },
        deadlineMs,
      );
    },
  };
  return scenario;
}

/**
 * Runs `body` against a fresh scenario and always tears it down (bot stopped, servers closed, dirs removed);
 * fails on any GitHub violation. Errors carry the output of every bot process of the scenario.
 */
export async function withScenario(
  options: ScenarioOptions,
  body: (s: Scenario) => Promise<void>,
): Promise<void> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const bots: RunningBot[] = [];
  let scenario: Scenario | undefined;
  let failure: unknown;
  try {
    scenario = await startScenario(options, cleanups, bots);
    await body(scenario);
  } catch (error) {
    failure = error;
  }
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  if (process.env.PROCESS_DEBUG && scenario) {
    const calls = scenario.github.calls.map(
      (c) =>
        `${c.status} ${c.method} ${c.path}${c.query} ${c.auth.slice(0, 8)} ${JSON.stringify(c.body) ?? ""}`,
    );
    console.log(`GitHub calls:\n${calls.join("\n")}\n${bots.map((bot) => bot.output()).join("\n---\n")}`);
  }
  const violations = scenario?.github.violations ?? [];
  if (failure === undefined && violations.length > 0)
    failure = new Error(`GitHub calls that GitHub would not answer so:\n  ${violations.join("\n  ")}`);
  if (failure !== undefined) {
    const outputs = bots.map((bot, i) => `--- bot process ${i + 1} output ---\n${bot.output()}`).join("\n");
    // The original error (vitest keeps its expected/actual diff), with the bots' output appended.
    if (failure instanceof Error) {
      failure.message = `${failure.message}\n${outputs}`;
      throw failure;
    }
    throw new Error(`${String(failure)}\n${outputs}`);
  }
}
