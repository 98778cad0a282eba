/**
 * Issue 7, credentials: installation tokens never reach an error detail, a log or the data directory; the
 * server refuses to start without a real webhook secret; run pages are not open to the world.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunPageRoutes } from "../../src/app/run-page-routes.ts";
import { CheckoutError, createWorkspaces, type Workspaces } from "../../src/exec/workspace.ts";
import { executeRun } from "../../src/flow/execute-run.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import {
  createBareRemote,
  createRepo,
  makeTempDir,
  removeTempDirs,
  serveGitHttp,
} from "../helpers/git-remote.ts";
import {
  configOf,
  executeHarness,
  filesContaining,
  localPushEvent,
  logLines,
  openTestStore,
  recordRun,
  serveRoutes,
  type TestStore,
} from "./security-harness.ts";

const TOKEN = "ghs_runTOKEN4e9d1c0b7a6f5e4d3c2b1a0z";
const basic = (token: string) => Buffer.from(`x-access-token:${token}`).toString("base64");
/** Every form the token travels in: raw, as the basic-auth credential, and plain base64. */
const tokenForms = (token: string) => [token, basic(token), Buffer.from(token).toString("base64")];

const config = configOf(`
version: 1
pipelines:
  test:
    steps:
      - name: Inspect the checkout
        run: |
          echo checkout-ok-7d2f
          cat .git/config
          git config --list --show-origin
          cat "$(git rev-parse --git-common-dir)/objects/info/alternates"
          cat "$(cat "$(git rev-parse --git-common-dir)/objects/info/alternates")/../config"
rules:
  - name: main
    on:
      push:
        branches: [main]
    run: [test]
`);
const serverEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C" };

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(async () => {
  await t.close();
});
afterAll(removeTempDirs);

/**
 * A git smart-HTTP endpoint that answers every request with a protocol error echoing the credentials it
 * received, as a misconfigured proxy might: git prints it as `fatal: remote error: …`, so the token really
 * is in git's error message and only deploy-bot's scrubbing keeps it out.
 */
async function serveEchoingGit(): Promise<{ url: string; close(): Promise<void> }> {
  const pkt = (text: string) => `${(text.length + 4).toString(16).padStart(4, "0")}${text}`;
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "(none)";
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    res.writeHead(200, {
      "content-type": "application/x-git-upload-pack-advertisement",
      "cache-control": "no-cache",
    });
    res.end(
      `${pkt("# service=git-upload-pack\n")}0000${pkt(`ERR denied: header "${auth}" credentials "${decoded}"\n`)}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/acme/app.git`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SHA = "c".repeat(40);

describe("a token in a git error message", () => {
  // Guards: workspace `safeError` (maskText with the token and its basic-auth forms) on git's stderr.
  it("is scrubbed from the CheckoutError of the workspace", async () => {
    const echo = await serveEchoingGit();
    try {
      const workspaces = createWorkspaces({ root: await makeTempDir() });
      const error = await workspaces
        .checkout({
          repoFullName: "acme/app",
          cloneUrl: echo.url,
          sha: SHA,
          fetchRef: "refs/heads/main",
          token: TOKEN,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(CheckoutError);
      const message = (error as Error).message;
      expect(message).toContain("remote error"); // git did print the server's message…
      expect(message).toContain("***"); // …which carried the credentials, now masked
      for (const form of tokenForms(TOKEN)) expect(message).not.toContain(form);
    } finally {
      await echo.close();
    }
  });

  // Guards: execute-run `safeMessage` (the second line of defence: whatever a checkout throws, the token and
  // `base64(x-access-token:<token>)` are cut out of the stored `Checkout failed: …` detail).
  it("is scrubbed from the run's `Checkout failed` detail even if a checkout error carries it raw", async () => {
    const leaky: Workspaces = {
      checkout: async () => {
        throw new Error(
          `fatal: unable to access 'https://x-access-token:${TOKEN}@github.com/acme/app.git/': Authorization: Basic ${basic(TOKEN)} refused`,
        );
      },
      cleanStale: async () => {},
    };
    const run: RunRecord = await recordRun(
      t.store,
      config,
      localPushEvent("https://github.com/acme/app.git", SHA),
      "test",
    );
    const outcome = await executeRun(
      { config: () => config, workspaces: leaky, installationToken: async () => TOKEN, serverEnv },
      run,
      { signal: new AbortController().signal, logs: t.store.createRunLogSink(run.id), onStep: () => {} },
    );
    expect(outcome.state).toBe("error");
    expect(outcome.detail).toMatch(/^Checkout failed: fatal: unable to access/);
    for (const form of [TOKEN, basic(TOKEN)]) expect(outcome.detail).not.toContain(form);
  });

  // Guards: both layers end to end, with a real git failing against a server that rejects the token and one
  // that echoes it; the detail is what the store keeps and the status/comment shows.
  it("never appears in executeRun's detail, against a server that rejects or echoes the token", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const sha = await work.head();
    const rejecting = await serveGitHttp({
      root: path.dirname(remote.dir),
      token: "the-right-token-which-we-lack",
    });
    const echo = await serveEchoingGit();
    try {
      for (const cloneUrl of [rejecting.url(remote.dir), echo.url]) {
        const run = await recordRun(t.store, config, localPushEvent(cloneUrl, sha), "test");
        const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv, token: TOKEN });
        expect(outcome.state).toBe("error");
        expect(outcome.detail).toMatch(/^Checkout failed: /);
        for (const form of tokenForms(TOKEN)) {
          expect(outcome.detail).not.toContain(form);
          expect(log).not.toContain(form);
        }
      }
      expect(rejecting.requests.length).toBeGreaterThan(0);
      expect(rejecting.requests.every((r) => !r.authorized)).toBe(true);
    } finally {
      await rejecting.close();
      await echo.close();
    }
  });
});

describe("the installation token at rest", () => {
  // Guards: git-auth-env (the token travels as an http.extraHeader set through GIT_CONFIG_* environment,
  // never in a remote URL or a config file) and execute-run (the token is not given to steps or stored).
  it("is written nowhere under the data dir after a run that used it, and a step cannot read it", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const sha = await work.head();
    const server = await serveGitHttp({ root: path.dirname(remote.dir), token: TOKEN });
    try {
      const run = await recordRun(t.store, config, localPushEvent(server.url(remote.dir), sha), "test");
      await t.store.claimRuns("credentials-worker", 10);
      const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv, token: TOKEN });
      expect(outcome).toEqual({ state: "passed", detail: "Passed" });
      expect(server.requests.some((r) => r.authorized)).toBe(true);
      expect(logLines(log)).toContain("checkout-ok-7d2f");
      expect(log).toContain("remote.origin.url"); // the step did read the checkout's git config…
      for (const form of tokenForms(TOKEN)) expect(log).not.toContain(form); // …without the token
      await t.store.finishRun(run.id, outcome);
    } finally {
      await server.close();
    }
    await t.close(); // PGlite writes its pages to disk
    // The scan can see what the run stored (its log line), so a stored token would be found too.
    expect((await filesContaining(t.dataDir, ["checkout-ok-7d2f"])).length).toBeGreaterThan(0);
    expect(await filesContaining(t.dataDir, tokenForms(TOKEN))).toEqual([]);
  });
});

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const FAKE_PEM =
  "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";

/** Starts `node src/main.ts` as `npm start` does, with only the given environment; kills it after 20 s. */
async function startServer(extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const cwd = await makeTempDir("deploy-bot-start-");
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      APP_ID: "12345",
      PRIVATE_KEY: FAKE_PEM,
      DATA_DIR: path.join(cwd, "data"),
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  child.stdout.resume();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(killer);
  return { code, stderr };
}

describe("server start-up", () => {
  // Guards: read-server-env (WEBHOOK_SECRET required; Probot's "development" placeholder, empty and short
  // secrets refused) and boot (exit 1 before anything listens). App credentials are valid, so the secret is
  // the only reason given.
  it.each([
    ["unset", {}, "WEBHOOK_SECRET: required"],
    ["empty", { WEBHOOK_SECRET: "" }, "WEBHOOK_SECRET: required"],
    ["Probot's placeholder", { WEBHOOK_SECRET: "development" }, 'WEBHOOK_SECRET: "development"'],
    ["too short", { WEBHOOK_SECRET: "hunter2" }, "WEBHOOK_SECRET: at least 16 characters"],
  ])("refuses to start with WEBHOOK_SECRET %s", async (_case, env, message) => {
    const { code, stderr } = await startServer(env);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
    const errors = stderr.split("\n").filter((line) => line.startsWith("deploy-bot: "));
    expect(errors.at(-1)).toMatch(/refusing to start/);
    expect(errors.slice(0, -1).every((line) => line.startsWith("deploy-bot: WEBHOOK_SECRET"))).toBe(true);
  });
});

describe("run pages", () => {
  const DASHBOARD_TOKEN = "dashboard-token-5c4b3a29180f";
  const run = (): RunRecord => ({
    id: randomBytes(16).toString("base64url"),
    deliveryId: "delivery",
    pipeline: "test",
    environment: null,
    needs: [],
    state: "passed",
    detail: "Passed",
    event: localPushEvent("https://github.com/Codertocat/Hello-World.git", SHA),
    steps: [
      {
        index: 0,
        name: "Build",
        state: "passed",
        exitCode: 0,
        startedAt: new Date(),
        finishedAt: new Date(),
      },
    ],
    createdAt: new Date(),
    startedAt: new Date(),
    finishedAt: new Date(),
  });

  async function pages(dashboardToken: string | undefined, runs: RunRecord[]) {
    return serveRoutes(
      createRunPageRoutes({
        getRun: async (id) => runs.find((r) => r.id === id),
        readLog: async () => "+0.001s secret-log-line\n",
        dashboardToken,
        secureCookie: false,
      }),
    );
  }

  // Guards: the store's run ids (run-keys `newRunId`: 128 random bits) are the capability to read a run.
  it("gives runs unguessable ids, and an unknown id is 404", async () => {
    const { remote, sha } = await (async () => {
      const work = await createRepo();
      return { remote: await createBareRemote(work), sha: await work.head() };
    })();
    const a = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), "test");
    const b = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), "test");
    for (const id of [a.id, b.id]) expect(id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(a.id).not.toBe(b.id);

    const known = run();
    const server = await pages(undefined, [known]);
    try {
      const unknown = await server.get(`/runs/${randomBytes(16).toString("base64url")}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).not.toContain("secret-log-line");
      expect((await server.get(`/runs/${known.id}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  // Guards: run-page-routes `authorise` (with DASHBOARD_TOKEN set: Bearer, cookie or ?token=, else 401).
  it("requires DASHBOARD_TOKEN when it is set", async () => {
    const known = run();
    const server = await pages(DASHBOARD_TOKEN, [known]);
    try {
      const refused: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong-token-000000000" },
        { authorization: DASHBOARD_TOKEN },
        { cookie: "deploybot_token=wrong-token-000000000" },
      ];
      for (const headers of refused) {
        for (const suffix of ["", "/log"]) {
          const res = await server.get(`/runs/${known.id}${suffix}`, headers);
          expect(res.status).toBe(401);
          expect(res.body).not.toContain("secret-log-line");
        }
      }
      expect((await server.get(`/runs/${known.id}?token=nope-nope-nope-nope`)).status).toBe(401);
      // An unknown id is 401 too: without the token nobody learns which ids exist.
      expect((await server.get(`/runs/${randomBytes(16).toString("base64url")}`)).status).toBe(401);

      const bearer = await server.get(`/runs/${known.id}`, { authorization: `Bearer ${DASHBOARD_TOKEN}` });
      expect(bearer.status).toBe(200);
      expect(bearer.body).toContain("secret-log-line");
      expect(
        (await server.get(`/runs/${known.id}/log`, { authorization: `Bearer ${DASHBOARD_TOKEN}` })).status,
      ).toBe(200);
      expect(
        (await server.get(`/runs/${known.id}`, { cookie: `deploybot_token=${DASHBOARD_TOKEN}` })).status,
      ).toBe(200);
      expect((await server.get(`/runs/${known.id}?token=${DASHBOARD_TOKEN}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
