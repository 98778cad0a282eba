/**
 * Checkout figures: cold (empty mirror) vs warm (mirror has everything but one new commit) checkout of a
 * generated ~50 MB repository served over file://, with their ratio.
 * Run: `node bench/checkout.ts [MB]` → one JSON line. `main()` returns the same object.
 */

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createWorkspaces } from "../src/exec/workspace.ts";

const execFileAsync = promisify(execFile);
const gitEnv = {
  PATH: process.env.PATH,
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};
const git = async (cwd: string, ...args: string[]) =>
  (await execFileAsync("git", args, { cwd, env: gitEnv, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();

export interface CheckoutFigures {
  readonly bench: "checkout";
  readonly repoMB: number;
  readonly coldMs: number;
  readonly warmMs: number;
  readonly warmToColdRatio: number;
}

export async function main(megabytes = 50): Promise<CheckoutFigures> {
  const base = await mkdtemp(path.join(tmpdir(), "deploy-bot-bench-"));
  try {
    const work = path.join(base, "work");
    const remote = path.join(base, "remote.git");
    await mkdir(work);
    await git(work, "init", "--quiet", "--initial-branch=main");
    // Incompressible content so the pack really is ~`megabytes` MB.
    for (let i = 0; i < megabytes; i++) {
      await mkdir(path.join(work, `dir${i % 10}`), { recursive: true });
      await writeFile(path.join(work, `dir${i % 10}`, `blob${i}.bin`), randomBytes(1024 * 1024));
    }
    await git(work, "add", "--all");
    await git(work, "commit", "--quiet", "-m", "big");
    await git(base, "clone", "--quiet", "--bare", work, remote);
    await git(work, "remote", "add", "origin", remote);

    const workspaces = createWorkspaces({ root: path.join(base, "data"), allowFileUrls: true });
    const request = { repoFullName: "bench/big", cloneUrl: `file://${remote}`, fetchRef: "refs/heads/main" };
    let started = performance.now();
    const cold = await workspaces.checkout({ ...request, sha: await git(work, "rev-parse", "HEAD") });
    const coldMs = performance.now() - started;
    await cold.dispose();

    await writeFile(path.join(work, "NEW.txt"), "new\n");
    await git(work, "add", "--all");
    await git(work, "commit", "--quiet", "-m", "small");
    await git(work, "push", "--quiet", "origin", "main");
    started = performance.now();
    const warm = await workspaces.checkout({ ...request, sha: await git(work, "rev-parse", "HEAD") });
    const warmMs = performance.now() - started;
    await warm.dispose();
    return {
      bench: "checkout",
      repoMB: megabytes,
      coldMs: Math.round(coldMs),
      warmMs: Math.round(warmMs),
      warmToColdRatio: Math.round((warmMs / coldMs) * 1000) / 1000,
    };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await main(Number(process.argv[2] ?? "50"))));
}
