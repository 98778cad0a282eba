/**
 * A fake GitHub Enterprise Server: a real HTTP server on 127.0.0.1 serving the REST API under `/api/v3`, for
 * tests that run the bot as its own process (no nock: the bot's requests cross a real socket).
 *
 * - `/app/...` calls must carry the App's JWT (RS256), verified with the App's public key.
 * - `POST /app/installations/{id}/access_tokens` issues `ghs_…` tokens, scoped as the body asks
 *   (`repositories`, `permissions`); every other call must carry a token issued for the repository it names.
 * - It answers the REST calls the bot makes (commit statuses, the PR comment, PR files, collaborator
 *   permission, check runs in `fake-checks.ts` …) from a small in-memory model, records every call, and records as a **violation** any call
 *   that is not an operation of GitHub's OpenAPI description (GHES flavour) or whose body does not validate,
 *   any call it cannot authenticate, and any call it has no answer for. Tests assert `violations` is empty.
 * - `gitAccess(token, repo)` tells the git remote whether a token may read a repository.
 */
import { createPublicKey, createVerify, type KeyObject, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createFakeChecks, type FakeCheckRun } from "./fake-checks.ts";
import { type FakeDeliveries, fakeDeliveries } from "./fake-deliveries.ts";
import { createFakeDeployments, type FakeDeployment } from "./fake-deployments.ts";
import {
  answerCommands,
  NotFound as CommandNotFound,
  commandsModel,
  type FakePullRequest,
  type Reaction,
} from "./fake-github-commands.ts";
import {
  createFakeUsers,
  type FakeOAuthClient,
  type FakeUser,
  type FakeUsers,
  FakeHttpError as HttpError,
} from "./fake-github-users.ts";
import { type FakeRepositories, fakeRepositories, NotFound } from "./fake-repositories.ts";
import { API_BASE_PATH, ghesChecker } from "./openapi.ts";

export interface Installation {
  readonly id: number;
  /** The account the App is installed on (a user or an organisation login). */
  readonly account: string;
  /** Repository names (without the owner) the installation can access. */
  readonly repositories: readonly string[];
}

export interface FakeGitHubOptions {
  readonly appId: string;
  /** The App's public key (PEM); JWTs are verified with it. */
  readonly publicKey: string;
  readonly installations: readonly Installation[];
  /** People who can log in to the bot's dashboard (`fake-github-users.ts`), and the App's OAuth client. */
  readonly users?: readonly FakeUser[];
  readonly oauth?: FakeOAuthClient;
  /**
   * Chaos: asked before each call (after its OpenAPI check); a fault is answered instead of GitHub's answer and
   * is no violation. `drop` closes the connection without an answer; `drop-after` does the call, then drops.
   */
  readonly faults?: (call: { method: string; path: string; body: unknown }) => Fault | undefined;
}

export type Fault =
  | "drop"
  | "drop-after"
  | { readonly status: number; readonly headers?: Record<string, string> };

export interface RecordedCall {
  readonly method: string;
  /** Path below `/api/v3`, without the query. */
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  /** `jwt` (the App), `ghs_…` (an installation token) or `none`. */
  readonly auth: string;
  readonly status: number;
  /** The answer was a fault the test asked for (`status` 0: the connection was dropped). */
  readonly fault?: true;
}

export interface IssuedToken {
  readonly installationId: number;
  /** `owner/name` of every repository the token may access. */
  readonly repositories: readonly string[];
  readonly permissions: Readonly<Record<string, string>> | undefined;
  /** The body asked for specific repositories (not "all of the installation's"). */
  readonly scoped: boolean;
}

export interface StatusCall {
  readonly repo: string;
  readonly sha: string;
  readonly state: string;
  readonly description?: string;
  readonly context: string;
  readonly target_url?: string;
}

export interface Comment {
  readonly id: number;
  readonly body: string;
}

export interface FakeGitHub {
  /** `http://127.0.0.1:<port>` (the API is below `/api/v3`). */
  readonly url: string;
  /** `127.0.0.1:<port>`: what `GHE_HOST` is set to. */
  readonly host: string;
  readonly calls: RecordedCall[];
  readonly violations: string[];
  readonly tokens: ReadonlyMap<string, IssuedToken>;
  /** True only for a token this fake issued that covers `repo` (`owner/name`) and may read its contents. */
  gitAccess(token: string, repo: string): boolean;
  /** Commit statuses created, in order (optionally of one repository and/or commit). */
  statuses(filter?: { repo?: string; sha?: string }): StatusCall[];
  /** The comments of an issue or pull request as the fake holds them. */
  comments(repo: string, number: number): Comment[];
  /** Deployments created, in order, each with its statuses (`fake-deployments.ts`). */
  deployments(repo?: string): FakeDeployment[];
  /** Check runs created, in order, each with every write (`fake-checks.ts`). */
  checkRuns(filter?: { repo?: string; sha?: string }): FakeCheckRun[];
  /** The App's webhook deliveries (`GET /app/hook/deliveries`): feed it with `deliveries.made(...)`. */
  readonly deliveries: FakeDeliveries;
  /** The files `GET /repos/{owner}/{repo}/pulls/{n}/files` lists. */
  setPullRequestFiles(repo: string, number: number, files: readonly string[]): void;
  /** Repositories and branch heads (`GET /repos/{o}/{r}`, `GET /repos/{o}/{r}/branches/{b}`). */
  readonly repositories: Pick<FakeRepositories, "setRepository" | "setBranch">;
  /** The users and the OAuth web flow. */
  readonly users: FakeUsers;
  /** What `GET …/collaborators/{login}/permission` answers (default `write`). */
  setPermission(login: string, permission: string): void;
  /** What `GET /repos/{repo}/pulls/{number}` answers. */
  setPullRequest(repo: string, number: number, pull: FakePullRequest): void;
  /** What `GET /repos/{repo}/commits/{ref}` resolves `ref` to (a 40-hex SHA resolves to itself). */
  setRef(repo: string, ref: string, sha: string): void;
  /** Reactions the bot put on comments, in order. */
  reactions(repo: string, commentId: number): string[];
  close(): Promise<void>;
}

interface StoredComment {
  id: number;
  repo: string;
  issue: number;
  body: string;
  created_at: string;
  updated_at: string;
}

const BOT_USER = { login: "deploy-bot[bot]", id: 9001, type: "Bot" };
const TOKEN_LIFETIME_MS = 3_600_000;

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const publicKey = createPublicKey(options.publicKey);
  const checker = ghesChecker();
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  const tokens = new Map<string, IssuedToken>();
  const statuses: StatusCall[] = [];
  const comments: StoredComment[] = [];
  const pullFiles = new Map<string, readonly string[]>();
  const repositories = fakeRepositories();
  const commands = commandsModel();
  let nextId = 1000;
  const deployments = createFakeDeployments({
    nextId: () => nextId++,
    latestStatuses: (repo, sha) => {
      const latest = new Map<string, string>();
      for (const s of statuses) if (s.repo === repo && s.sha === sha) latest.set(s.context, s.state);
      return [...latest.values()];
    },
    fail: (status, message) => {
      throw new HttpError(status, message);
    },
  });
  const checks = createFakeChecks({
    appId: Number(options.appId),
    nextId: () => nextId++,
    fail: (status, message) => {
      throw new HttpError(status, message);
    },
  });
  const deliveries = fakeDeliveries(violations);
  let baseUrl = "";
  const users = createFakeUsers({
    users: options.users ?? [],
    oauth: options.oauth,
    installations: options.installations,
  });

  const installationOf = (id: number): Installation => {
    const installation = options.installations.find((i) => i.id === id);
    if (!installation) throw new HttpError(404, `no installation ${id}`);
    return installation;
  };
  const installationRepos = (installation: Installation) =>
    installation.repositories.map((name) => `${installation.account}/${name}`);

  /** Issues an installation token, as GitHub does: only repositories and permissions the installation has. */
  const issueToken = (installationId: number, body: unknown): Record<string, unknown> => {
    const installation = installationOf(installationId);
    const request = (body ?? {}) as { repositories?: string[]; permissions?: Record<string, string> };
    const all = installationRepos(installation);
    let repositories = all;
    if (request.repositories !== undefined) {
      for (const name of request.repositories)
        if (!installation.repositories.includes(name))
          throw new HttpError(422, `repository ${name} is not accessible to installation ${installationId}`);
      repositories = request.repositories.map((name) => `${installation.account}/${name}`);
    }
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    tokens.set(token, {
      installationId,
      repositories,
      permissions: request.permissions,
      scoped: request.repositories !== undefined,
    });
    return {
      token,
      expires_at: new Date(Date.now() + TOKEN_LIFETIME_MS).toISOString().replace(/\.\d+Z$/, "Z"),
      permissions: request.permissions ?? { contents: "read", statuses: "write", pull_requests: "write" },
      repository_selection: request.repositories ? "selected" : "all",
    };
  };

  /** The caller: `jwt` for a verified App JWT, the token for an issued installation token. */
  const authenticate = (req: IncomingMessage): string => {
    const header = req.headers.authorization ?? "";
    const [scheme, credential] = header.split(" ");
    if (!credential) return "none";
    if (/^basic$/i.test(scheme ?? "")) {
      const client = users.clientOf(credential);
      if (!client) throw new HttpError(401, "bad client credentials");
      return client;
    }
    if (/^bearer$/i.test(scheme ?? "") && credential.split(".").length === 3) {
      const problem = jwtProblem(credential, publicKey, options.appId);
      if (problem) throw new HttpError(401, `bad App JWT: ${problem}`);
      return "jwt";
    }
    if (!tokens.has(credential) && !users.userOf(credential))
      throw new HttpError(401, "not a token this GitHub issued");
    return credential;
  };

  const requireToken = (auth: string, repo: string): void => {
    if (auth === "jwt") throw new HttpError(403, "an App JWT cannot call repository endpoints");
    const issued = tokens.get(auth);
    if (!issued) throw new HttpError(401, "requires an installation token");
    if (!issued.repositories.some((r) => r.toLowerCase() === repo.toLowerCase()))
      throw new HttpError(404, `token does not cover ${repo}`);
  };

  /** Answers one call (throws HttpError for GitHub's error answers); `undefined` = nothing matched. */
  const answer = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    auth: string,
  ): { status: number; json: unknown; headers?: Record<string, string> } | undefined => {
    const parts = path.split("/").slice(1).map(decodeURIComponent);
    const route = `${method} /${parts.map((p, i) => (isParam(parts, i) ? "*" : p)).join("/")}`;

    if (parts[0] === "user" || parts[0] === "applications") return users.api(route, parts, auth, body);
    if (parts[0] === "app") {
      if (auth !== "jwt") throw new HttpError(401, "App endpoints require the App's JWT");
      if (route === "POST /app/installations/*/access_tokens")
        return { status: 201, json: issueToken(Number(parts[2]), body) };
      if (route === "GET /app/installations/*") {
        const installation = installationOf(Number(parts[2]));
        return { status: 200, json: installationJson(installation) };
      }
      const hook = deliveries.answer(method, parts, query, baseUrl);
      if (hook) return hook;
      if (route === "GET /app")
        return { status: 200, json: { id: Number(options.appId), slug: "deploy-bot", name: "deploy-bot" } };
      return undefined;
    }
    if (parts[0] !== "repos" || parts.length < 3) return undefined;
    const repo = `${parts[1]}/${parts[2]}`;
    if (route === "GET /repos/*/*/installation") {
      if (auth !== "jwt") throw new HttpError(401, "requires the App's JWT");
      const installation = options.installations.find((i) =>
        installationRepos(i).some((r) => r.toLowerCase() === repo.toLowerCase()),
      );
      if (!installation) throw new HttpError(404, "not installed");
      return { status: 200, json: installationJson(installation) };
    }
    requireToken(auth, repo);
    const now = new Date().toISOString();
    const b = (body ?? {}) as Record<string, unknown>;
    switch (route) {
      case "POST /repos/*/*/statuses/*": {
        const status = { repo, sha: parts[4] as string, ...b } as StatusCall;
        statuses.push(status);
        return { status: 201, json: { id: nextId++, ...b, created_at: now, updated_at: now } };
      }
      case "GET /repos/*/*/issues/*/comments": {
        const issue = Number(parts[4]);
        const page = Number(query.get("page") ?? 1);
        const perPage = Number(query.get("per_page") ?? 30);
        const all = comments.filter((c) => c.repo === repo && c.issue === issue);
        return { status: 200, json: all.slice((page - 1) * perPage, page * perPage).map(commentJson) };
      }
      case "POST /repos/*/*/issues/*/comments": {
        const comment: StoredComment = {
          id: nextId++,
          repo,
          issue: Number(parts[4]),
          body: String(b.body),
          created_at: now,
          updated_at: now,
        };
        comments.push(comment);
        return { status: 201, json: commentJson(comment) };
      }
      case "PATCH /repos/*/*/issues/comments/*": {
        const comment = comments.find((c) => c.repo === repo && c.id === Number(parts[5]));
        if (!comment) throw new HttpError(404, "no such comment");
        comment.body = String(b.body);
        comment.updated_at = now;
        return { status: 200, json: commentJson(comment) };
      }
      case "GET /repos/*/*/pulls/*/files": {
        const files = pullFiles.get(`${repo}#${parts[4]}`) ?? [];
        return {
          status: 200,
          json: files.map((filename) => ({ sha: "0".repeat(40), filename, status: "modified", changes: 1 })),
        };
      }
      default:
        try {
          return (
            deployments.answer(route, repo, parts, query, b) ??
            checks.answer(route, repo, parts, query, b) ??
            answerCommands(commands, route, parts, repo, b, () => nextId++) ??
            repositories.answer(route, repo, parts)
          );
        } catch (error) {
          if (error instanceof NotFound || error instanceof CommandNotFound)
            throw new HttpError(404, error.message);
          throw error;
        }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    let body: unknown;
    let status = 500;
    let json: unknown;
    let headers: Record<string, string> = {};
    let auth = "none";
    const fullPath = url.pathname;
    const path = fullPath.startsWith(`${API_BASE_PATH}/`) ? fullPath.slice(API_BASE_PATH.length) : fullPath;
    const where = `${method} ${fullPath}${url.search}`;
    const web = fullPath.startsWith(API_BASE_PATH) ? undefined : users.web(method, url, raw, violations);
    if (web) {
      res.writeHead(web.status, web.headers);
      res.end(web.body);
      return;
    }
    try {
      if (!fullPath.startsWith(`${API_BASE_PATH}/`))
        throw new HttpError(404, `not below the Enterprise API base path ${API_BASE_PATH}`);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, "Problems parsing JSON");
        }
      }
      const verdict = checker.check(method, path, body);
      if (!verdict.ok) violations.push(`${where}: ${verdict.reason}`);
      const fault = options.faults?.({ method, path, body });
      if (fault !== undefined && fault !== "drop-after") {
        calls.push({ method, path, query: url.search, body, auth: "none", status: 0, fault: true });
        if (fault === "drop") {
          req.socket.destroy();
          return;
        }
        calls[calls.length - 1] = { ...calls[calls.length - 1]!, status: fault.status };
        res.writeHead(fault.status, { "content-type": "application/json; charset=utf-8", ...fault.headers });
        res.end(JSON.stringify({ message: "injected fault", documentation_url: "https://docs.github.com" }));
        return;
      }
      auth = authenticate(req);
      const answered = answer(method, path, url.searchParams, body, auth);
      if (!answered) throw new HttpError(404, "the fake GitHub has no answer for this call");
      ({ status, json } = answered);
      headers = answered.headers ?? {};
      if (fault === "drop-after") {
        calls.push({ method, path, query: url.search, body, auth, status: 0, fault: true });
        req.socket.destroy();
        return;
      }
    } catch (error) {
      const httpError = error instanceof HttpError ? error : new HttpError(500, String(error));
      status = httpError.status;
      json = {
        message: httpError.message,
        documentation_url: "https://docs.github.com/enterprise-server/rest",
      };
      violations.push(`${where}: answered ${status} (${httpError.message})`);
    }
    calls.push({ method, path, query: url.search, body, auth, status });
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(json));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`${req.method} ${req.url}: the fake crashed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    violations,
    tokens,
    deliveries,
    gitAccess(token, repo) {
      const issued = tokens.get(token);
      if (!issued) return false;
      if (issued.permissions !== undefined && issued.permissions.contents === undefined) return false;
      return issued.repositories.some((r) => r.toLowerCase() === repo.toLowerCase());
    },
    statuses(filter = {}) {
      return statuses.filter(
        (s) =>
          (filter.repo === undefined || s.repo === filter.repo) &&
          (filter.sha === undefined || s.sha === filter.sha),
      );
    },
    comments(repo, number) {
      return comments
        .filter((c) => c.repo === repo && c.issue === number)
        .map((c) => ({ id: c.id, body: c.body }));
    },
    deployments: (repo) => deployments.list(repo),
    checkRuns: (filter) => checks.list(filter),
    setPullRequestFiles(repo, number, files) {
      pullFiles.set(`${repo}#${number}`, files);
    },
    repositories,
    users,
    setPermission(login, permission) {
      commands.permissions.set(login, permission);
    },
    setPullRequest(repo, number, pull) {
      commands.pulls.set(`${repo}#${number}`, pull);
    },
    setRef(repo, ref, sha) {
      commands.refs.set(`${repo}@${ref}`, sha);
    },
    reactions(repo, commentId) {
      return commands.reactions
        .filter((r: Reaction) => r.repo === repo && r.commentId === commentId)
        .map((r) => r.content);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Why a JWT is not the App's (undefined when it is): RS256 signature, issuer, issued-at and expiry. */
export function jwtProblem(jwt: string, publicKey: KeyObject, appId: string): string | undefined {
  const [headerPart, payloadPart, signaturePart] = jwt.split(".") as [string, string, string];
  let header: { alg?: string };
  let payload: { iss?: unknown; iat?: number; exp?: number };
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
    payload = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
  } catch {
    return "not JSON";
  }
  if (header.alg !== "RS256") return `alg ${header.alg}, not RS256`;
  const verify = createVerify("RSA-SHA256");
  verify.update(`${headerPart}.${payloadPart}`);
  if (!verify.verify(publicKey, Buffer.from(signaturePart, "base64url"))) return "signature does not verify";
  if (String(payload.iss) !== appId) return `iss ${String(payload.iss)}, not ${appId}`;
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== "number" || payload.exp <= now) return "expired";
  if (typeof payload.iat !== "number" || payload.iat > now + 60) return "issued in the future";
  if (payload.exp - payload.iat > 600) return "valid for more than 10 minutes";
  return undefined;
}

/** Path segments that are values, not names, in the routes the fake answers. */
function isParam(parts: readonly string[], i: number): boolean {
  if (parts[0] === "user") return parts[1] === "installations" && i === 2;
  if (parts[0] === "app") return parts[1] === "installations" && i === 2;
  if (parts[0] === "applications") return i === 1;
  if (parts[0] !== "repos") return false;
  if (i === 1 || i === 2) return true;
  // /applications/{client_id}/token; /repos/o/r/statuses/{sha}, /issues/{n}/comments, /issues/comments/{id}, /pulls/{n}/files,
  // /collaborators/{user}/permission, /pulls/{n}, /commits/{ref}, /issues/comments/{id}/reactions,
  // /branches/{branch} (which may hold slashes)
  if (parts[3] === "branches") return i >= 4;
  if (i === 4) return parts[4] !== "comments";
  if (i === 5) return parts[3] === "issues" && parts[4] === "comments";
  return false;
}

function installationJson(installation: Installation): Record<string, unknown> {
  return {
    id: installation.id,
    account: { login: installation.account, id: installation.id * 10, type: "Organization" },
    repository_selection: "selected",
    permissions: { contents: "read", statuses: "write", pull_requests: "write", issues: "write" },
    events: ["push", "pull_request"],
  };
}

function commentJson(comment: StoredComment): Record<string, unknown> {
  return {
    id: comment.id,
    body: comment.body,
    user: BOT_USER,
    created_at: comment.created_at,
    updated_at: comment.updated_at,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
