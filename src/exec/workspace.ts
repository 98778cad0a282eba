/**
 * Checkouts of an event's exact commit, fast for big repositories and safe with hostile payloads.
 *
 * Layout under `root`:
 * - `mirrors/<owner>/<name>.git` — one bare mirror per repository, kept between runs, so a second run
 *   fetches only the objects that are new (git negotiates with the refs the mirror already has).
 * - `runs/<random>.output` — the run's `DEPLOYBOT_OUTPUT` files, beside (not inside) its checkout.
 * - `runs/<random>` — one directory per run, made with `git clone --shared` from the mirror and removed by
 *   `dispose()`. Why `clone --shared` and not `git worktree`: a worktree registers itself inside the mirror
 *   (`worktrees/…`, locks, `worktree prune`), so concurrent runs and crashed runs would share mutable
 *   metadata with the mirror; a shared clone borrows the mirror's objects read-only (alternates) and is an
 *   independent repository that `rm -rf` removes completely. The mirror never prunes objects a run needs:
 *   every fetched commit stays referenced.
 *
 * Concurrency: fetches into one mirror are serialised per repository in this process (a promise chain).
 * Across processes sharing the same `root`, git's own lock files (`*.lock` on refs and packed-refs) keep
 * the mirror consistent; a fetch that loses a lock race fails with "cannot lock ref" and is retried a few
 * times. A process killed mid-fetch can leave a stale `.lock` that blocks that ref until removed.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";
import { GIT_AUTH_ENV_NAMES, gitAuthEnv } from "./git-auth-env.ts";
import { maskText } from "./mask-secrets.ts";
import { cloneUrlProblem, refProblem, repoNameProblem, shaProblem } from "./validate-git-input.ts";

export interface CheckoutRequest {
  /** `owner/name`: names the mirror. */
  readonly repoFullName: string;
  /** http(s) clone URL without credentials (`file://` only with `allowFileUrls`). */
  readonly cloneUrl: string;
  /** The exact commit to check out (40 hex). */
  readonly sha: string;
  /** A ref that reaches `sha`, fetched first: `refs/heads/main`, `refs/pull/12/head` (fork heads). */
  readonly fetchRef?: string;
  /** Installation token, sent as HTTP basic auth `x-access-token:<token>`; never stored. */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

export interface Checkout {
  /** The working tree at exactly `sha` (detached HEAD). */
  readonly dir: string;
  /**
   * An empty directory beside the checkout, not inside it, for the run's `DEPLOYBOT_OUTPUT` files (so a
   * step's report never shows up in the working tree or is committed by it).
   */
  readonly outputDir: string;
  /** Removes the run directory and its output directory; safe to call twice. */
  dispose(): Promise<void>;
}

export interface Workspaces {
  checkout(request: CheckoutRequest): Promise<Checkout>;
  /** Removes run directories left by a previous process. Call at start-up, before any checkout. */
  cleanStale(): Promise<void>;
}

export interface WorkspacesOptions {
  readonly root: string;
  /** Accept `file://` clone URLs (tests and local use only). */
  readonly allowFileUrls?: boolean;
  /** Kill a git command that prints nothing for this long; default 10 minutes. */
  readonly gitIdleTimeoutMs?: number;
}

/** Why a checkout failed, in words safe to show a user and store: no token, no auth header. */
export class CheckoutError extends Error {
  override readonly name = "CheckoutError";
}

/** Where the mirror of `owner/name` lives under `root` (exported for tests and diagnostics). */
export const mirrorPath = (root: string, repoFullName: string): string =>
  path.join(root, "mirrors", ...`${repoFullName}.git`.split("/"));

const LOCK_RETRIES = 3;

/** Creates the checkout service for one data directory. */
export function createWorkspaces(options: WorkspacesOptions): Workspaces {
  const root = path.resolve(options.root);
  const runsDir = path.join(root, "runs");
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task for the same key, and drops the key when the chain is idle. */
  const withLock = async <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(task);
    locks.set(key, current);
    try {
      return await current;
    } finally {
      if (locks.get(key) === current) locks.delete(key);
    }
  };

  const git = (baseDir: string, request: CheckoutRequest): SimpleGit =>
    simpleGit({
      baseDir,
      allowEnvironment: [...GIT_AUTH_ENV_NAMES],
      // Both only for the fixed values of `gitAuthEnv` (an auth header, an emptied credential helper);
      // payload values never reach config, only arguments after `--`, validated first.
      unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeCredentialHelper: true },
      timeout: { block: options.gitIdleTimeoutMs ?? 600_000 },
      ...(request.signal ? { abort: request.signal } : {}),
    }).env({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? root,
      LANG: "C",
      ...gitAuthEnv(request.cloneUrl, request.token),
    });

  /** A git failure as a safe message: token and auth header scrubbed, only the last few stderr lines. */
  const safeError = (what: string, error: unknown, request: CheckoutRequest): CheckoutError => {
    const raw = error instanceof Error ? error.message : String(error);
    const tokens = request.token ? [request.token] : [];
    const text = maskText(raw, { tokens }).trim().split("\n").slice(-4).join(" | ").slice(0, 500);
    return new CheckoutError(`${what}: ${text}`);
  };

  const hasCommit = async (mirror: SimpleGit, sha: string): Promise<boolean> => {
    try {
      await mirror.raw(["cat-file", "-e", `${sha}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  };

  const fetchWithRetry = async (mirror: SimpleGit, args: string[]): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await mirror.raw(args);
        return;
      } catch (error) {
        const lockRace = /\block\b|\.lock/i.test(error instanceof Error ? error.message : "");
        if (!lockRace || attempt >= LOCK_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt + Math.random() * 200));
      }
    }
  };

  /** Makes sure the mirror has `sha`, fetching only when it does not. */
  const updateMirror = async (dir: string, request: CheckoutRequest): Promise<void> => {
    await mkdir(path.dirname(dir), { recursive: true });
    try {
      await git(path.dirname(dir), request).raw(["init", "--quiet", "--bare", "--", dir]);
    } catch (error) {
      throw safeError("Could not create the repository mirror", error, request);
    }
    const mirror = git(dir, request);
    if (await hasCommit(mirror, request.sha)) return;
    const base = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", request.cloneUrl];
    let refError: unknown;
    if (request.fetchRef) {
      const local = `refs/deploy-bot/fetched/${request.fetchRef.slice("refs/".length)}`;
      try {
        await fetchWithRetry(mirror, [...base, `+${request.fetchRef}:${local}`]);
      } catch (error) {
        refError = error;
      }
      if (await hasCommit(mirror, request.sha)) return;
    }
    // The ref moved on past our commit (or there is none): ask for the exact commit; GitHub and git's
    // protocol v2 serve any reachable commit by id.
    try {
      await fetchWithRetry(mirror, [...base, `+${request.sha}:refs/deploy-bot/sha/${request.sha}`]);
    } catch (error) {
      throw safeError(`Could not fetch ${request.sha.slice(0, 7)}`, refError ?? error, request);
    }
    if (!(await hasCommit(mirror, request.sha))) {
      throw new CheckoutError(`Commit ${request.sha.slice(0, 7)} is not in ${request.repoFullName}`);
    }
  };

  return {
    async checkout(request) {
      const problem =
        repoNameProblem(request.repoFullName) ??
        shaProblem(request.sha) ??
        (request.fetchRef === undefined ? null : refProblem(request.fetchRef)) ??
        cloneUrlProblem(request.cloneUrl, options.allowFileUrls ?? false);
      if (problem) throw new CheckoutError(`Refusing to check out: ${problem}`);
      if (request.signal?.aborted) throw new CheckoutError("Checkout cancelled");

      const mirrorDir = mirrorPath(root, request.repoFullName);
      await withLock(mirrorDir, () => updateMirror(mirrorDir, request));

      await mkdir(runsDir, { recursive: true });
      const dir = path.join(runsDir, randomBytes(12).toString("hex"));
      const outputDir = `${dir}.output`;
      const dispose = async () => {
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        await rm(outputDir, { recursive: true, force: true, maxRetries: 3 });
      };
      try {
        await git(runsDir, request).raw([
          "clone",
          "--quiet",
          "--shared",
          "--no-checkout",
          "--",
          mirrorDir,
          dir,
        ]);
        await git(dir, request).raw([
          "-c",
          "advice.detachedHead=false",
          "checkout",
          "--quiet",
          "--detach",
          request.sha,
        ]);
      } catch (error) {
        await dispose();
        throw safeError(`Could not check out ${request.sha.slice(0, 7)}`, error, request);
      }
      try {
        await mkdir(outputDir, { mode: 0o700 });
      } catch (error) {
        await dispose();
        throw new CheckoutError(`Could not create the output directory: ${(error as Error).message}`);
      }
      return { dir, outputDir, dispose };
    },

    async cleanStale() {
      let entries: string[];
      try {
        entries = await readdir(runsDir);
      } catch {
        return;
      }
      await Promise.all(
        entries.map((entry) => rm(path.join(runsDir, entry), { recursive: true, force: true })),
      );
    },
  };
}
