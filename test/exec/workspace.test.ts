import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CheckoutError, createWorkspaces, mirrorPath } from "../../src/exec/workspace.ts";
import {
  countObjects,
  createBareRemote,
  createForkPullRequest,
  createRepo,
  git,
  makeTempDir,
  removeTempDirs,
  serveGitHttp,
} from "../helpers/git-remote.ts";

afterAll(removeTempDirs);

const headOf = (dir: string) => git(dir, "rev-parse", "HEAD");

describe("createWorkspaces().checkout", () => {
  it("checks out the exact sha even when the branch has moved on", async () => {
    const work = await createRepo({ "v.txt": "one\n" });
    const remote = await createBareRemote(work);
    const wanted = await work.head();
    await work.commit({ "v.txt": "two\n" });
    await work.push();
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const checkout = await workspaces.checkout({
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha: wanted,
      fetchRef: "refs/heads/main",
    });
    expect(await headOf(checkout.dir)).toBe(wanted);
    expect(await readFile(path.join(checkout.dir, "v.txt"), "utf8")).toBe("one\n");
    expect(existsSync(checkout.outputDir)).toBe(true);
    await checkout.dispose();
    expect(existsSync(checkout.dir)).toBe(false);
    expect(existsSync(checkout.outputDir)).toBe(false);
  });

  it("checks out a fork pull request head through refs/pull/N/head", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const { sha } = await createForkPullRequest(remote, 12, { "fork.txt": "fork\n" });
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const checkout = await workspaces.checkout({
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha,
      fetchRef: "refs/pull/12/head",
    });
    expect(await headOf(checkout.dir)).toBe(sha);
    expect(await readFile(path.join(checkout.dir, "fork.txt"), "utf8")).toBe("fork\n");
    await checkout.dispose();
  });

  it("fetches by sha alone when no ref is given", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const sha = await work.head();
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const checkout = await workspaces.checkout({ repoFullName: "acme/app", cloneUrl: remote.fileUrl, sha });
    expect(await headOf(checkout.dir)).toBe(sha);
    await checkout.dispose();
  });

  it("a warm second checkout fetches only the new commit's objects", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`src/file-${i}.txt`] = `content ${i}\n`.repeat(50);
    const work = await createRepo(files);
    for (let i = 0; i < 5; i++) await work.commit({ [`src/file-${i}.txt`]: `changed ${i}\n` });
    const remote = await createBareRemote(work);
    const root = await makeTempDir();
    const workspaces = createWorkspaces({ root, allowFileUrls: true });
    const request = { repoFullName: "acme/app", cloneUrl: remote.fileUrl, fetchRef: "refs/heads/main" };
    const first = await workspaces.checkout({ ...request, sha: await work.head() });
    await first.dispose();
    const mirror = mirrorPath(root, "acme/app");
    const before = await countObjects(mirror);
    expect(before).toBeGreaterThan(40);

    // One new commit touching one file at the top level: exactly a commit, a root tree and a blob.
    const sha = await work.commit({ "NEW.txt": "new\n" });
    await work.push();
    const second = await workspaces.checkout({ ...request, sha });
    expect(await headOf(second.dir)).toBe(sha);
    expect((await countObjects(mirror)) - before).toBe(3);
    await second.dispose();

    // Nothing new: the mirror is not touched at all.
    const third = await workspaces.checkout({ ...request, sha });
    expect(await countObjects(mirror)).toBe(before + 3);
    await third.dispose();
  });

  it("two concurrent runs of one repository get separate, correct checkouts", async () => {
    const work = await createRepo({ "v.txt": "a\n" });
    const remote = await createBareRemote(work);
    const shaA = await work.head();
    const shaB = await work.commit({ "v.txt": "b\n" });
    await work.push();
    const root = await makeTempDir();
    const workspaces = createWorkspaces({ root, allowFileUrls: true });
    const base = { repoFullName: "acme/app", cloneUrl: remote.fileUrl };
    const [a, b, b2] = await Promise.all([
      workspaces.checkout({ ...base, sha: shaA, fetchRef: "refs/heads/main" }),
      workspaces.checkout({ ...base, sha: shaB, fetchRef: "refs/heads/main" }),
      workspaces.checkout({ ...base, sha: shaB }),
    ]);
    expect(new Set([a.dir, b.dir, b2.dir]).size).toBe(3);
    expect(await readFile(path.join(a.dir, "v.txt"), "utf8")).toBe("a\n");
    expect(await readFile(path.join(b.dir, "v.txt"), "utf8")).toBe("b\n");
    expect(await readFile(path.join(b2.dir, "v.txt"), "utf8")).toBe("b\n");
    await git(mirrorPath(root, "acme/app"), "fsck", "--no-progress");
    await Promise.all([a.dispose(), b.dispose(), b2.dispose()]);
    expect(await readdir(path.join(root, "runs"))).toEqual([]);
  });

  it("treats a branch named like a shell command as data", async () => {
    const marker = path.join(await makeTempDir(), "pwned");
    const work = await createRepo();
    const remote = await createBareRemote(work);
    // `${IFS}` keeps it a valid ref name; the space-containing form is refused by validation below.
    const branch = `feat/$(touch\${IFS}${marker})`;
    const sha = await work.commit({ "b.txt": "b\n" });
    await work.push(`HEAD:refs/heads/${branch}`);
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const checkout = await workspaces.checkout({
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha,
      fetchRef: `refs/heads/${branch}`,
    });
    expect(await headOf(checkout.dir)).toBe(sha);
    await checkout.dispose();

    const spaced = workspaces.checkout({
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha,
      fetchRef: `refs/heads/feat/$(touch ${marker})`,
    });
    await expect(spaced).rejects.toBeInstanceOf(CheckoutError);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses refs and values that could be read as options, and bad shas and URLs", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const sha = await work.head();
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const base = { repoFullName: "acme/app", cloneUrl: remote.fileUrl, sha };
    const refused = [
      { ...base, fetchRef: "--upload-pack=touch /tmp/x" },
      { ...base, fetchRef: "-refs/heads/main" },
      { ...base, fetchRef: "refs/heads/-main" },
      { ...base, fetchRef: "refs/heads/a..b" },
      { ...base, fetchRef: "refs/heads/a\nb" },
      { ...base, sha: "--help" },
      { ...base, sha: "main" },
      { ...base, repoFullName: "../../etc" },
      { ...base, repoFullName: "acme/-x" },
      { ...base, cloneUrl: "ext::sh -c touch% /tmp/x" },
      { ...base, cloneUrl: "-uhttps://example.com" },
      { ...base, cloneUrl: "https://user:pass@example.com/acme/app.git" },
    ];
    for (const request of refused) {
      await expect(workspaces.checkout(request), JSON.stringify(request)).rejects.toBeInstanceOf(
        CheckoutError,
      );
    }
    const noFiles = createWorkspaces({ root: await makeTempDir() });
    await expect(noFiles.checkout(base)).rejects.toThrow(/file:\/\/ clone URLs are not allowed/);
  });

  it("fails with a typed error when the commit does not exist", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const workspaces = createWorkspaces({ root: await makeTempDir(), allowFileUrls: true });
    const request = {
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha: "0123456789abcdef0123456789abcdef01234567",
      fetchRef: "refs/heads/main",
    };
    await expect(workspaces.checkout(request)).rejects.toBeInstanceOf(CheckoutError);
  });

  it("cleanStale removes run directories left behind", async () => {
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const root = await makeTempDir();
    const workspaces = createWorkspaces({ root, allowFileUrls: true });
    const checkout = await workspaces.checkout({
      repoFullName: "acme/app",
      cloneUrl: remote.fileUrl,
      sha: await work.head(),
    });
    // The checkout and, beside it, its DEPLOYBOT_OUTPUT directory.
    expect((await readdir(path.join(root, "runs"))).sort()).toEqual(
      [path.basename(checkout.dir), path.basename(checkout.outputDir)].sort(),
    );
    expect(path.dirname(checkout.outputDir)).toBe(path.dirname(checkout.dir));
    await createWorkspaces({ root, allowFileUrls: true }).cleanStale();
    expect(await readdir(path.join(root, "runs"))).toEqual([]);
  });
});

describe("checkout over HTTP with an installation token", () => {
  it("authenticates with x-access-token basic auth and never leaks the token", async () => {
    const token = "ghs_TestToken1234567890abcdef";
    const work = await createRepo();
    const remote = await createBareRemote(work);
    const sha = await work.head();
    const server = await serveGitHttp({ root: path.dirname(remote.dir), token });
    try {
      const root = await makeTempDir();
      const workspaces = createWorkspaces({ root });
      const url = server.url(remote.dir);
      const checkout = await workspaces.checkout({
        repoFullName: "acme/app",
        cloneUrl: url,
        sha,
        fetchRef: "refs/heads/main",
        token,
      });
      expect(await headOf(checkout.dir)).toBe(sha);
      expect(server.requests.some((r) => r.authorized)).toBe(true);
      // The token is on no disk file of the mirror or the run (config, FETCH_HEAD, logs).
      const grep = await git(root, "grep", "--no-index", "-l", "-I", "-e", token, "--", ".").catch(() => "");
      expect(grep).toBe("");
      await checkout.dispose();

      const newer = await work.commit({ "x.txt": "x\n" });
      await work.push();
      const wrong = "ghs_WrongToken0987654321fedcba";
      const failure = await workspaces
        .checkout({
          repoFullName: "acme/app",
          cloneUrl: url,
          sha: newer,
          fetchRef: "refs/heads/main",
          token: wrong,
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(CheckoutError);
      const message = String((failure as Error).message) + String((failure as Error).stack);
      expect(message).not.toContain(wrong);
      expect(message).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString("base64"));
      expect(server.requests.some((r) => !r.authorized)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
