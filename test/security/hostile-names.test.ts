/**
 * Issue 7, hostile names: branch names with shell metacharacters, refs that look like options, path
 * traversal in repository names, step workdirs and run ids. Each is either refused with a typed result or
 * handled as a plain string, and nothing is executed or created outside where it belongs.
 */
import { existsSync } from "node:fs";
import { readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRunPageRoutes } from "../../src/app/run-page-routes.ts";
import { isIgnored } from "../../src/events/deploy-event.ts";
import { normaliseEvent } from "../../src/events/normalise.ts";
import { CheckoutError, createWorkspaces } from "../../src/exec/workspace.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { createBareRemote, createRepo, git, makeTempDir, removeTempDirs } from "../helpers/git-remote.ts";
import {
  configOf,
  executeHarness,
  localPushEvent,
  logLines,
  openTestStore,
  recordRun,
  serveRoutes,
  type TestStore,
} from "./security-harness.ts";

const config = configOf(`
version: 1
pipelines:
  echo-branch:
    steps:
      - name: Echo
        run: 'echo "branch=$DEPLOYBOT_BRANCH"; echo "ref=$DEPLOYBOT_REF"'
  up-two:
    steps:
      - name: Escape
        workdir: ../..
        run: touch pwned-by-workdir
  absolute:
    steps:
      - name: Escape
        workdir: /tmp
        run: touch pwned-by-workdir
  symlinked:
    steps:
      - name: Escape
        workdir: deploy
        run: touch pwned-by-workdir
rules:
  - name: all pushes
    on:
      push: {}
    run: [echo-branch]
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

// biome-ignore lint/suspicious/noExplicitAny: raw webhook payloads are edited freely here
type Payload = Record<string, any>;

function pushPayload(ref: string, sha: string): Payload {
  const p = fixture("push.branch") as Payload;
  p.ref = ref;
  p.after = sha;
  return p;
}

async function localRemote() {
  const work = await createRepo();
  const remote = await createBareRemote(work);
  return { work, remote, sha: await work.head() };
}

describe("branch names with shell metacharacters", () => {
  // Guards: event values reach steps only as DEPLOYBOT_* environment values (step-env `deployBotVars`, the
  // command text is the operator's), and git receives refs as argv after `--` (workspace), never via a shell.
  it.each([
    ["$( )", (marker: string) => `feat/$(touch\${IFS}${marker})`],
    ["backticks", (marker: string) => `feat/\`touch\${IFS}${marker}\``],
    ["semicolon", (marker: string) => `feat/x;touch\${IFS}${marker};echo`],
  ])("keeps a branch name with %s a literal string, end to end", async (what, nameFor) => {
    const marker = path.join(await makeTempDir("deploy-bot-pwned-"), "pwned");
    const branch = nameFor(marker);
    const { work, remote, sha } = await localRemote();
    await git(work.dir, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);

    const event = normaliseEvent("push", `hostile-${what}`, pushPayload(`refs/heads/${branch}`, sha));
    expect(isIgnored(event)).toBe(false);
    if (isIgnored(event)) return;
    expect(event.branch).toBe(branch);
    const run = await recordRun(
      t.store,
      config,
      { ...event, repo: { ...event.repo, cloneUrl: remote.fileUrl } },
      "echo-branch",
    );
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });

    expect(outcome.state).toBe("passed");
    expect(logLines(log)).toEqual([`branch=${branch}`, `ref=refs/heads/${branch}`]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("refs and values that look like options", () => {
  // Guards: normalise-ref-name `refNameProblem` (a branch or tag starting with "-" is ignored at the edge).
  it("ignores a push or pull request whose branch starts with a dash", async () => {
    const marker = path.join(await makeTempDir("deploy-bot-pwned-"), "pwned");
    for (const branch of ["-x", `--upload-pack=touch\${IFS}${marker}`]) {
      const push = normaliseEvent("push", "dash-push", pushPayload(`refs/heads/${branch}`, "a".repeat(40)));
      expect(push).toMatchObject({ ignored: true, reason: expect.stringContaining('starts with "-"') });
      const pr = fixture("pull_request.opened") as Payload;
      pr.pull_request.head.ref = branch;
      expect(normaliseEvent("pull_request", "dash-pr", pr)).toMatchObject({ ignored: true });
    }
    expect(existsSync(marker)).toBe(false);
  });

  // Guards: validate-git-input (`refProblem`, `shaProblem`, `cloneUrlProblem`) checked by workspace.checkout
  // before any git command: each hostile value is a typed CheckoutError, no mirror is created, nothing runs.
  it("refuses option-like refs, shas and clone URLs before running git", async () => {
    const marker = path.join(await makeTempDir("deploy-bot-pwned-"), "pwned");
    const { remote, sha } = await localRemote();
    const root = await makeTempDir("deploy-bot-ws-");
    const workspaces = createWorkspaces({ root, allowFileUrls: true });
    const cases = [
      { fetchRef: `--upload-pack=touch ${marker}`, why: "the ref must start with refs/" },
      { fetchRef: `refs/heads/--upload-pack=touch\${IFS}${marker}`, why: "a ref component starts with -" },
      { fetchRef: "refs/heads/-x", why: "a ref component starts with -" },
      {
        sha: `--upload-pack=touch ${marker}`,
        why: "the commit id must be 40 or 64 lowercase hex characters",
      },
      { sha: "-".repeat(40), why: "the commit id must be 40 or 64 lowercase hex characters" },
      { cloneUrl: `--upload-pack=touch ${marker}`, why: "the clone URL is not a URL" },
      { cloneUrl: `ext::sh -c touch% ${marker}`, why: "the clone URL" },
    ];
    for (const c of cases) {
      const attempt = workspaces.checkout({
        repoFullName: "acme/app",
        cloneUrl: c.cloneUrl ?? remote.fileUrl,
        sha: c.sha ?? sha,
        fetchRef: c.fetchRef ?? "refs/heads/main",
      });
      await expect(attempt).rejects.toBeInstanceOf(CheckoutError);
      await expect(attempt).rejects.toThrow(`Refusing to check out: ${c.why}`);
    }
    expect(await readdir(root)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  // Guards: the same checks reached through executeRun (an event that got past normalisation): the run ends
  // as `error` with the typed reason and no step runs.
  it("ends a run whose ref starts with a dash as an error without running a step", async () => {
    const { remote, sha } = await localRemote();
    const event = localPushEvent(remote.fileUrl, sha, {
      ref: "refs/heads/--upload-pack=x",
      branch: "--upload-pack=x",
    });
    const run = await recordRun(t.store, config, event, "echo-branch");
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });
    expect(outcome).toEqual({
      state: "error",
      detail: "Checkout failed: Refusing to check out: a ref component starts with -",
    });
    expect(log).toBe("");
  });
});

describe("path traversal", () => {
  // Guards: normalise-fields `repoRef` (repository.full_name must be owner/name without "..").
  it("ignores a webhook whose repository full_name traverses paths", () => {
    for (const fullName of ["../../etc/passwd", "acme/..", "../app", "acme/app/../../x", "/etc/passwd"]) {
      const p = pushPayload("refs/heads/main", "a".repeat(40));
      p.repository.full_name = fullName;
      expect(normaliseEvent("push", "traversal", p)).toMatchObject({ ignored: true });
    }
  });

  // Guards: validate-git-input `repoNameProblem` in workspace.checkout (the mirror path stays under
  // `<root>/mirrors`): a traversing name is refused and nothing is created beside or above the root.
  it("refuses a traversing repository name at checkout and creates nothing outside the workspace root", async () => {
    const { remote, sha } = await localRemote();
    const parent = await makeTempDir("deploy-bot-ws-parent-");
    const root = path.join(parent, "a", "b", "workspaces");
    const workspaces = createWorkspaces({ root, allowFileUrls: true });
    for (const name of ["../../etc/passwd", "../../../escape", "acme/..", "../x", "acme/../../y"]) {
      await expect(
        workspaces.checkout({
          repoFullName: name,
          cloneUrl: remote.fileUrl,
          sha,
          fetchRef: "refs/heads/main",
        }),
      ).rejects.toThrow(/^Refusing to check out: the repository/);
    }
    expect(await readdir(parent)).toEqual([]);

    const event = localPushEvent(remote.fileUrl, sha);
    const run = await recordRun(
      t.store,
      config,
      { ...event, repo: { ...event.repo, fullName: "../../etc/passwd" } },
      "echo-branch",
    );
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });
    expect(outcome.state).toBe("error");
    expect(outcome.detail).toMatch(/^Checkout failed: Refusing to check out: the repository/);
    expect(log).toBe("");
  });

  // Guards: resolve-workdir (relative only, lexically inside the checkout, and inside after following
  // symlinks): a step whose workdir leaves the checkout does not start.
  it.each([
    ["up-two", "../.."],
    ["absolute", "/tmp"],
    ["symlinked", "deploy"],
  ])("refuses the step workdir of pipeline %s (%s)", async (pipeline) => {
    const outside = await makeTempDir("deploy-bot-outside-");
    const work = await createRepo();
    await symlink(outside, path.join(work.dir, "deploy"));
    const remote = await createBareRemote(work);
    const sha = await work.commit({}, "deploy is a symlink out of the checkout");
    await work.push();
    expect(await git(work.dir, "ls-tree", "HEAD", "deploy")).toMatch(/^120000 /);

    const run = await recordRun(t.store, config, localPushEvent(remote.fileUrl, sha), pipeline);
    const { outcome, log } = await executeHarness(t).execute(run, { config, serverEnv });
    expect(outcome.state).toBe("error");
    expect(outcome.detail).toMatch(
      /^Escape could not start: workdir "[^"]+" (must be a relative path|is outside|points outside)/,
    );
    expect(log).toContain("could not start");
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(path.join(t.dataDir, "workspaces", "pwned-by-workdir"))).toBe(false);
    expect(existsSync("/tmp/pwned-by-workdir")).toBe(false);
  });

  // Guards: run-page-routes `RUN_PATH` (ids are [A-Za-z0-9_-]{16,64}; anything else is 404 and never
  // reaches the store).
  it("answers 404 to run ids that traverse paths, without looking them up", async () => {
    const asked: string[] = [];
    const logsRead: string[] = [];
    const known: RunRecord = {
      id: "knownRunId_0123456789abcdef",
      deliveryId: "d",
      pipeline: "test",
      environment: null,
      needs: [],
      state: "passed",
      detail: "Passed",
      event: localPushEvent("https://github.com/Codertocat/Hello-World.git", "a".repeat(40)),
      steps: [],
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    };
    const server = await serveRoutes(
      createRunPageRoutes({
        getRun: async (id) => {
          asked.push(id);
          return id === known.id ? known : undefined;
        },
        readLog: async (id) => {
          logsRead.push(id);
          return "";
        },
        dashboardToken: undefined,
        secureCookie: false,
      }),
    );
    try {
      for (const raw of [
        "/runs/../../etc/passwd",
        "/runs/..%2F..%2Fetc%2Fpasswd",
        "/runs/%2e%2e/%2e%2e/etc/passwd",
        "/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/log",
        "/runs/....//....//etc/passwd",
        `/runs/${known.id}/../../../etc/passwd`,
        `/runs/${known.id}%2F..%2F..%2Fetc%2Fpasswd/log`,
      ]) {
        const res = await server.get(raw);
        expect(res.status, raw).toBe(404);
        expect(res.body).not.toContain("root:");
      }
      expect(asked.filter((id) => !/^[A-Za-z0-9_-]{16,64}$/.test(id))).toEqual([]);
      expect(logsRead).toEqual([]);
      expect((await server.get(`/runs/${known.id}`)).status).toBe(200); // the route itself works
    } finally {
      await server.close();
    }
  });
});
