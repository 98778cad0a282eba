/**
 * Real git fixtures for tests: repositories with commits in temp dirs, bare remotes, fork pull requests,
 * and a bare repository served over HTTP by `git http-backend` behind basic auth — no mocks.
 *
 * Typical use:
 * ```ts
 * const base = await createRepo();                       // working repo with one commit on main
 * const remote = await createBareRemote(base);           // bare copy, base's origin points at it
 * const sha = await base.commit({ "a.txt": "2" });       // commit, then
 * await base.push();                                     // push main to the remote
 * const pr = await createForkPullRequest(remote, 12);    // a fork commit at refs/pull/12/head
 * const server = await serveGitHttp({ root: path.dirname(remote.dir), token: "t0k" });
 * server.url(remote.dir)                                 // http://127.0.0.1:PORT/<name>.git
 * ```
 * Everything lives under one temp dir per helper call; call `removeTempDirs()` in `afterAll`.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const created: string[] = [];

/** Git with a fixed identity and no user/system config, so tests behave the same on every machine. */
export const gitEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: tmpdir(),
  LANG: "C",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
});

/** Runs git in `cwd` and returns trimmed stdout; throws with stderr on failure. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("git", args, { cwd, env: gitEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** A fresh temp dir, removed by {@link removeTempDirs}. */
export async function makeTempDir(prefix = "deploy-bot-git-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every temp dir the helpers created. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface WorkRepo {
  readonly dir: string;
  /** Writes the files (relative paths → content), commits everything, returns the new sha. */
  commit(files: Record<string, string | Buffer>, message?: string): Promise<string>;
  /** `git push origin <refspec>` (default: the current branch). */
  push(refspec?: string): Promise<void>;
  head(): Promise<string>;
}

/** A working repository on branch `main` with one commit (`README.md`), or the files given. */
export async function createRepo(
  files: Record<string, string | Buffer> = { "README.md": "hello\n" },
): Promise<WorkRepo> {
  const dir = path.join(await makeTempDir(), "work");
  await mkdir(dir);
  await git(dir, "init", "--quiet", "--initial-branch=main");
  const repo: WorkRepo = {
    dir,
    async commit(next, message = "change") {
      for (const [name, content] of Object.entries(next)) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), content);
      }
      await git(dir, "add", "--all");
      await git(dir, "commit", "--quiet", "--allow-empty", "-m", message);
      return git(dir, "rev-parse", "HEAD");
    },
    async push(refspec) {
      await git(dir, "push", "--quiet", "origin", refspec ?? "HEAD");
    },
    head: () => git(dir, "rev-parse", "HEAD"),
  };
  await repo.commit(files, "initial");
  return repo;
}

export interface BareRemote {
  /** Absolute path of the bare repository (`…/<name>.git`). */
  readonly dir: string;
  /** `file://` URL of it. */
  readonly fileUrl: string;
}

/** A bare repository `<name>.git` holding everything `work` has; `work`'s `origin` points at it. */
export async function createBareRemote(work: WorkRepo, name = "repo"): Promise<BareRemote> {
  const dir = path.join(await makeTempDir("deploy-bot-remote-"), `${name}.git`);
  await git(path.dirname(dir), "init", "--quiet", "--bare", "--initial-branch=main", dir);
  await git(work.dir, "remote", "add", "origin", dir);
  await git(work.dir, "push", "--quiet", "origin", "main");
  return { dir, fileUrl: `file://${dir}` };
}

/** Number of objects in a repository (loose + packed): how tests see what a fetch brought in. */
export async function countObjects(repoDir: string): Promise<number> {
  const out = await git(repoDir, "count-objects", "-v");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(out)?.[1] ?? 0);
  return field("count") + field("in-pack");
}

/**
 * A fork pull request: clones `base` into a second repository, commits there, and pushes that commit to
 * `refs/pull/<number>/head` of the base (as GitHub does), never to a branch of the base.
 */
export async function createForkPullRequest(
  base: BareRemote,
  number: number,
  files: Record<string, string> = { "fork.txt": "from a fork\n" },
): Promise<{ sha: string; fork: WorkRepo }> {
  const dir = path.join(await makeTempDir("deploy-bot-fork-"), "fork");
  await git(path.dirname(dir), "clone", "--quiet", base.dir, dir);
  const fork: WorkRepo = {
    dir,
    async commit(next, message = "fork change") {
      for (const [name, content] of Object.entries(next)) await writeFile(path.join(dir, name), content);
      await git(dir, "add", "--all");
      await git(dir, "commit", "--quiet", "-m", message);
      return git(dir, "rev-parse", "HEAD");
    },
    async push(refspec) {
      await git(dir, "push", "--quiet", "origin", refspec ?? "HEAD");
    },
    head: () => git(dir, "rev-parse", "HEAD"),
  };
  const sha = await fork.commit(files);
  await git(dir, "push", "--quiet", "origin", `HEAD:refs/pull/${number}/head`);
  return { sha, fork };
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>/<path of repoDir relative to root>` */
  url(repoDir: string): string;
  /** Requests seen, with their auth outcome: lets tests assert what a client did. */
  readonly requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

export type GitHttpAuth =
  /** The one token accepted, for every repository. */
  | { readonly root: string; readonly token: string }
  /**
   * Decides per request: `password` of the basic credentials (GitHub's user is `x-access-token`) and the
   * repository path below `root` without `.git` (`owner/name` when repositories live at `root/owner/name.git`).
   */
  | { readonly root: string; readonly authorize: (password: string, repo: string) => boolean };

/**
 * Serves the bare repositories under `root` over smart HTTP with `git http-backend` (CGI through a small
 * node:http server on 127.0.0.1), requiring `Authorization: Basic base64("x-access-token:<token>")` like
 * GitHub: one fixed `token`, or whatever `authorize` accepts. Wrong or missing credentials get 401.
 */
export async function serveGitHttp(options: GitHttpAuth): Promise<GitHttpServer> {
  const authorize =
    "token" in options
      ? (password: string) => password === options.token
      : (password: string, repo: string) => options.authorize(password, repo);
  const requests: GitHttpServer["requests"] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const credentials = basicCredentials(req.headers.authorization);
    const repo = /^\/(.+?)\.git(\/|$)/.exec(decodeURIComponent(url.pathname))?.[1] ?? "";
    const authorized = credentials?.user === "x-access-token" && authorize(credentials.password, repo);
    requests.push({ method: req.method ?? "GET", path: url.pathname, authorized });
    if (!authorized) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' });
      res.end("unauthorized\n");
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: "1",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
        ...(req.headers["content-encoding"]
          ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] }
          : {}),
        ...(req.headers["git-protocol"] ? { HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        REMOTE_USER: "x-access-token",
        REMOTE_ADDR: "127.0.0.1",
        GATEWAY_INTERFACE: "CGI/1.1",
        SERVER_PROTOCOL: "HTTP/1.1",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon === -1) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on("close", () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (repoDir) =>
      `http://127.0.0.1:${port}/${path.relative(options.root, repoDir).split(path.sep).join("/")}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `user` and `password` of a `Basic` authorization header, if it is one. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? "");
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
