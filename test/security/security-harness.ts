/**
 * Shared set-up of the security tests: a real PGlite store in a temp dir, the operator's config from YAML,
 * the webhook half wired to that store, and the worker half (`executeRun`) against real git checkouts.
 * Nothing here is a mock of deploy-bot itself; only the GitHub API is faked (nock, in the tests).
 */
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { parseConfig } from "../../src/config/load-config.ts";
import type { Config } from "../../src/config/schema.ts";
import { type DeployEvent, isIgnored, type PushEvent } from "../../src/events/deploy-event.ts";
import { normaliseEvent } from "../../src/events/normalise.ts";
import { createWorkspaces, type Workspaces } from "../../src/exec/workspace.ts";
import { type AcceptDeps, acceptDelivery } from "../../src/flow/accept-delivery.ts";
import type { ApprovalOctokit } from "../../src/flow/approve-fork.ts";
import { type ExecuteOutcome, executeRun } from "../../src/flow/execute-run.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { makeTempDir } from "../helpers/git-remote.ts";

export const API = "https://api.github.com";

export interface TestStore {
  readonly dataDir: string;
  readonly db: Database;
  readonly store: RunStore;
  /** Stops pg-boss and closes the database (writing PGlite's files); safe to call twice. */
  close(): Promise<void>;
}

/** A fresh embedded store (PGlite + pg-boss) under a temp data dir. */
export async function openTestStore(): Promise<TestStore> {
  const dataDir = await makeTempDir("deploy-bot-sec-data-");
  const db = await openDatabase({ dataDir });
  const store = await openRunStore(db);
  let closing: Promise<void> | undefined;
  return {
    dataDir,
    db,
    store,
    close() {
      closing ??= (async () => {
        await store.close();
        await db.close();
      })();
      return closing;
    },
  };
}

/** The operator's config from YAML text; throws with the errors if it is invalid. */
export function configOf(yaml: string): Config {
  const result = parseConfig(yaml, "deploy.config.yaml");
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join("\n"));
  return result.config;
}

const pendingIgnored: Promise<void>[] = [];

/** Waits until every ignored delivery handed to `recordIgnored` is in the store. */
export async function ignoredRecorded(): Promise<void> {
  await Promise.all(pendingIgnored.splice(0));
}

/** The webhook half wired to a real store, as `start-app.ts` wires it (reports are collected). */
export function acceptDepsFor(store: RunStore, config: Config, reported: RunRecord[] = []): AcceptDeps {
  return {
    config: () => config,
    record: (input) => store.acceptDelivery(input),
    // start-app batches these; here each is written at once and `ignoredRecorded()` waits for the writes.
    recordIgnored: (input) => {
      pendingIgnored.push(store.recordIgnoredDeliveries([input]));
    },
    report: (run) => reported.push(run),
    listChangedFiles: async () => {
      throw new Error("no rule in these tests filters on paths");
    },
  };
}

export { acceptDelivery };

/** Whether the store put the run on the queue (it has a pg-boss job). */
export async function jobIdOf(db: Database, runId: string): Promise<string | null> {
  const rows = await db.query<{ job_id: string | null }>("SELECT job_id FROM runs WHERE id = $1", [runId]);
  return rows[0]?.job_id ?? null;
}

/** An Octokit as Probot builds it, with a fixed token and no retries, so nock sees each call exactly once. */
export function testOctokit(): ApprovalOctokit {
  return new ProbotOctokit({
    auth: { token: "test-installation-token" },
    throttle: { enabled: false },
    retry: { enabled: false },
    log: { debug() {}, info() {}, warn() {}, error() {} },
  }) as unknown as ApprovalOctokit;
}

/** Requests nock could not match: any of them means the code made a GitHub call the test did not expect. */
export function unmatchedRequests(): { list: string[]; stop(): void } {
  const list: string[] = [];
  const listener = (req: { method?: string; path?: string; href?: string }) => {
    list.push(`${req.method ?? "?"} ${req.href ?? req.path ?? "?"}`);
  };
  nock.emitter.on("no match", listener);
  return { list, stop: () => nock.emitter.removeListener("no match", listener) };
}

export interface ExecuteHarness {
  readonly workspaces: Workspaces;
  /** Executes the run with the store's log sink and returns its outcome and stored log. */
  execute(
    run: RunRecord,
    options: { config: Config; serverEnv: NodeJS.ProcessEnv; token?: string },
  ): Promise<{ outcome: ExecuteOutcome; log: string; stepLog: (index: number) => Promise<string> }>;
}

/** `executeRun` as the worker calls it: workspaces under `<dataDir>/workspaces`, logs in the store. */
export function executeHarness(t: TestStore): ExecuteHarness {
  const workspaces = createWorkspaces({ root: path.join(t.dataDir, "workspaces"), allowFileUrls: true });
  return {
    workspaces,
    async execute(run, options) {
      const logs = t.store.createRunLogSink(run.id, { flushMs: 10 });
      const outcome = await executeRun(
        {
          config: () => options.config,
          workspaces,
          serverEnv: options.serverEnv,
          installationToken: async () => options.token ?? "ghs_unusedTokenForFileUrls0000000000",
        },
        run,
        { signal: new AbortController().signal, logs, onStep: () => {} },
      );
      await logs.close();
      return {
        outcome,
        log: await t.store.readLog(run.id),
        stepLog: (index) => t.store.readLog(run.id, index),
      };
    },
  };
}

/** A log's lines without the `+1.234s ` prefix. */
export const logLines = (log: string): string[] =>
  log
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^\+\d+\.\d{3}s /, ""));

/** Every regular file under `dir` (recursively), for "is this value written anywhere" checks. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

/** Files under `dir` whose bytes contain any of `needles`. */
export async function filesContaining(dir: string, needles: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    if (needles.some((needle) => bytes.includes(Buffer.from(needle)))) hits.push(file);
  }
  return hits;
}

/** Records one delivery of `event` with one queued run of `pipeline` (its steps from `config`), as the webhook half would. */
export async function recordRun(
  store: RunStore,
  config: Config,
  event: DeployEvent,
  pipeline: string,
): Promise<RunRecord> {
  const recorded = await store.acceptDelivery({
    deliveryId: event.deliveryId,
    eventName: event.kind,
    event,
    repo: event.repo.fullName,
    sha: event.sha,
    outcome: "planned",
    reason: null,
    runs: [
      {
        pipeline,
        needs: [],
        environment: null,
        stepNames: config.pipelines[pipeline]?.steps.map((step) => step.name) ?? [],
        initialState: "queued",
      },
    ],
  });
  const run = recorded.runs[0];
  if (!run) throw new Error("the store recorded no run");
  return run;
}

let pushes = 0;

/** The `push.branch` fixture normalised, at a real commit of a local remote (file:// clone URL). */
export function localPushEvent(cloneUrl: string, sha: string, overrides: Partial<PushEvent> = {}): PushEvent {
  pushes += 1;
  const event = normaliseEvent("push", `push-delivery-${pushes}-${sha.slice(0, 7)}`, fixture("push.branch"));
  if (isIgnored(event) || event.kind !== "push") throw new Error("push.branch fixture did not normalise");
  return { ...event, sha, repo: { ...event.repo, cloneUrl }, ...overrides };
}

export interface TinyServer {
  readonly port: number;
  /** A GET with the path sent exactly as given (no client-side normalisation of `..`). */
  get(rawPath: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** A bare node:http server on 127.0.0.1 in front of `handler`; a path it does not handle gets 404. */
export async function serveRoutes(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>,
): Promise<TinyServer> {
  const server = http.createServer((req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("not found\n");
        }
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get: (rawPath, headers = {}) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, method: "GET", path: rawPath, headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
