/**
 * `npm run bench`: every server side by side in one run — bare node:http + HMAC (the limit), an empty
 * Probot 14 app, @octokit/webhooks' middleware, and deploy-bot — each a child process pinned to CPU 0, load
 * from autocannon in a child pinned to CPU 1. Writes bench/results.json and bench/RESULTS.md.
 * `BENCH_QUICK=1`: one round of 1 s per cell (smoke test).
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { machineInfo } from "./machine.ts";
import { BENCH_SECRET, pushPayload, sign, WEBHOOK_PATH } from "./payload.ts";
import { type FloodCell, type Results, renderResults, type ThroughputCell } from "./report.ts";
import { sampleRss } from "./rss-sampler.ts";
import { memoryOf, pinned, type ServerProcess, type StartOptions, startServer } from "./server-process.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 1 : 5;
const SETTLE_MS = QUICK ? 500 : 2000;
const SENDERS = [1, 10, 100] as const;
const FLOOD_SENDERS = 100;
const SERVER_CPU = 0;
const LOAD_CPU = 1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a process's RSS changes by less than 5 MB over half a second (at most 20 s). */
async function waitForStableRss(pid: number): Promise<void> {
  let previous = memoryOf(pid).rss;
  for (let i = 0; i < 40; i++) {
    await sleep(500);
    const current = memoryOf(pid).rss;
    if (Math.abs(current - previous) < 5 * 2 ** 20) return;
    previous = current;
  }
}
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

const mainTs = join(ROOT, "src/main.ts");
const deployBotMode = existsSync(mainTs)
  ? "src/main.ts"
  : "front door stand-in (bench/servers/front-door.ts)";
const dataDirs: string[] = [];

/** How to start each server; deploy-bot gets a fresh DATA_DIR per start so runs never pile up. */
function serverOptions(id: string, databaseUrl?: string): StartOptions {
  const base = { WEBHOOK_SECRET: BENCH_SECRET, WEBHOOK_PATH, LOG_LEVEL: "info", DATABASE_URL: "" };
  switch (id) {
    case "bare":
      return { name: id, args: [join(ROOT, "bench/servers/bare.ts")], env: base, cpu: SERVER_CPU };
    case "octokit":
      return {
        name: id,
        args: [join(ROOT, "bench/servers/octokit-webhooks.ts")],
        env: base,
        cpu: SERVER_CPU,
      };
    case "probot":
      return { name: id, args: [join(ROOT, "bench/servers/probot-empty.ts")], env: base, cpu: SERVER_CPU };
    default: {
      if (!existsSync(mainTs)) {
        return { name: id, args: [join(ROOT, "bench/servers/front-door.ts")], env: base, cpu: SERVER_CPU };
      }
      const dataDir = mkdtempSync(join(tmpdir(), "deploy-bot-bench-"));
      dataDirs.push(dataDir);
      return {
        name: id,
        args: [mainTs],
        env: {
          ...base,
          APP_ID: "123456",
          PRIVATE_KEY: privateKey,
          DATA_DIR: dataDir,
          DEPLOY_CONFIG: join(ROOT, "bench/bench.config.yaml"),
          DATABASE_URL: databaseUrl ?? "",
        },
        cpu: SERVER_CPU,
        requirePong: true,
        readyTimeoutMs: 60_000,
      };
    }
  }
}

const matching = pushPayload("refs/heads/master");
const nonMatching = pushPayload("refs/heads/not-configured");
const headersFor = (body: Buffer, secret: string) => ({
  "content-type": "application/json",
  "x-github-event": "push",
  "x-hub-signature-256": sign(body, secret),
  "user-agent": "GitHub-Hookshot/bench",
});

function load(server: ServerProcess, body: Buffer, secret: string, connections: number): Promise<LoadResult> {
  return runLoadProcess(
    {
      url: `http://127.0.0.1:${server.port}${WEBHOOK_PATH}`,
      connections,
      durationSeconds: SECONDS,
      body: body.toString("base64"),
      headers: headersFor(body, secret),
    },
    LOAD_CPU,
  );
}

/** Targets: the baselines, and deploy-bot for matching and non-matching pushes. */
interface Target {
  readonly id: string;
  readonly label: string;
  readonly server: string;
  readonly body: Buffer;
  /** Start a fresh server for each cell (deploy-bot with matching pushes queues real runs). */
  readonly fresh: boolean;
}

const databaseUrl = process.env.DATABASE_URL;
const deployBotIds = ["deploy-bot", ...(databaseUrl && existsSync(mainTs) ? ["deploy-bot-pg"] : [])];
const targets: Target[] = [
  { id: "bare", label: "bare node:http + HMAC + JSON.parse", server: "bare", body: matching, fresh: false },
  {
    id: "octokit",
    label: "@octokit/webhooks middleware, empty",
    server: "octokit",
    body: matching,
    fresh: false,
  },
  { id: "probot", label: "Probot 14, empty app", server: "probot", body: matching, fresh: false },
  ...deployBotIds.flatMap((id): Target[] => [
    { id: `${id}:nomatch`, label: `${id}, non-matching push`, server: id, body: nonMatching, fresh: false },
    { id: `${id}:match`, label: `${id}, matching push`, server: id, body: matching, fresh: true },
  ]),
];

function start(id: string): Promise<ServerProcess> {
  return startServer(serverOptions(id, id === "deploy-bot-pg" ? databaseUrl : undefined));
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`mode ${QUICK ? "quick" : "full"}: ${ROUNDS} round(s) of ${SECONDS} s; deploy-bot = ${deployBotMode}`);
  log(
    `pinning: server ${pinned(SERVER_CPU).join(" ") || "(none)"}, load ${pinned(LOAD_CPU).join(" ") || "(none)"}`,
  );

  // Long-lived servers for the non-fresh cells; idle RSS measured on them after a settle.
  const longLived = new Map<string, ServerProcess>();
  for (const id of new Set(targets.filter((t) => !t.fresh).map((t) => t.server))) {
    longLived.set(id, await start(id));
  }
  await sleep(SETTLE_MS);
  for (const server of longLived.values()) await waitForStableRss(server.pid);
  const idleRss: Record<string, number> = {};
  for (const [id, server] of longLived) idleRss[id] = memoryOf(server.pid).rss;

  const throughput: ThroughputCell[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const senders of SENDERS) {
      // Rotate the order each round so no server always runs first or last.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order) {
        const server = target.fresh ? await start(target.server) : longLived.get(target.server)!;
        if (target.fresh) await sleep(SETTLE_MS / 2);
        try {
          const result = await load(server, target.body, BENCH_SECRET, senders);
          throughput.push({ round, senders, target: target.id, ...result });
          log(
            `round ${round + 1} ${target.id} x${senders}: ${result.perSecond.toFixed(0)}/s p99 ${result.p99} ms` +
              (result.non2xx || result.errors ? ` (non2xx ${result.non2xx}, errors ${result.errors})` : ""),
          );
        } finally {
          if (target.fresh) await server.stop();
        }
      }
    }
  }
  for (const server of longLived.values()) await server.stop();

  // Bad-signature flood: a fresh server per round, RSS sampled, output bytes counted.
  const flood: FloodCell[] = [];
  const floodServers = ["bare", "octokit", "probot", ...deployBotIds];
  for (let round = 0; round < ROUNDS; round++) {
    for (const id of floodServers) {
      const server = await start(id);
      await sleep(SETTLE_MS / 2);
      // The embedded store's WebAssembly is still being compiled for a second or two after start-up
      // (a transient ~500 MB): flood a settled server, so the figure is the flood's, not the start's.
      await waitForStableRss(server.pid);
      const bytesBefore = server.outputBytes();
      const rssBefore = memoryOf(server.pid).rss;
      const sampler = sampleRss(server.pid);
      try {
        const result = await load(server, matching, "not-the-secret", FLOOD_SENDERS);
        await sleep(300);
        const { maxRss, lastRss } = sampler.stop();
        const { hwm } = memoryOf(server.pid);
        const logged = server.outputBytes() - bytesBefore;
        flood.push({
          round,
          target: id,
          rejectsPerSecond: result.perSecond,
          rejected: result.non2xx,
          accepted: result.ok2xx,
          errors: result.errors,
          rssBefore,
          maxRss,
          lastRss,
          peakHwm: hwm,
          bytesLogged: logged,
          bytesPerReject: result.total > 0 ? logged / result.total : 0,
        });
        log(
          `flood round ${round + 1} ${id}: ${result.perSecond.toFixed(0)} rejects/s, RSS max ${(maxRss / 2 ** 20).toFixed(0)} MB, ` +
            `${(logged / Math.max(1, result.total)).toFixed(1)} B logged/reject`,
        );
      } finally {
        sampler.stop();
        await server.stop();
      }
    }
  }

  // The other engineers' standalone benches, when present.
  const others: Results["others"] = {};
  for (const name of ["queue", "checkout", "log-capture"]) {
    const file = join(ROOT, "bench", `${name}.ts`);
    if (!existsSync(file)) {
      others[name] = { status: "absent" };
      continue;
    }
    log(`running bench/${name}.ts`);
    try {
      const mod = (await import(file)) as { main?: () => Promise<object> };
      if (typeof mod.main !== "function") others[name] = { status: "error", error: "no exported main()" };
      else others[name] = { status: "ok", figures: await mod.main() };
    } catch (error) {
      others[name] = { status: "error", error: error instanceof Error ? error.message : String(error) };
    }
  }

  const results: Results = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    quick: QUICK,
    rounds: ROUNDS,
    secondsPerCell: SECONDS,
    floodSenders: FLOOD_SENDERS,
    pinning: { server: pinned(SERVER_CPU).join(" "), load: pinned(LOAD_CPU).join(" ") },
    deployBot: deployBotMode,
    targets: targets.map((t) => ({ id: t.id, label: t.label })),
    idleRss,
    throughput,
    flood,
    others,
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, "bench/RESULTS.md"), renderResults(results));
  log(`wrote bench/RESULTS.md and bench/results.json in ${results.elapsedSeconds} s`);
}

try {
  await main();
} finally {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
