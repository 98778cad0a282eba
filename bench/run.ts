/**
 * `npm run bench`: one long-lived server of each kind — bare node:http + HMAC (the limit), an empty Probot 14
 * app, and deploy-bot (embedded PGlite) — taken together through the same mixed sequence, several rounds:
 * non-matching pushes at 10 and 100 senders, a bad-signature flood, matching (durable) pushes, then push →
 * first step running on a warm mirror. Servers run as child processes pinned with `taskset -c 0`, autocannon
 * in a child pinned to CPU 1. Writes bench/results.json and bench/RESULTS.md.
 * `BENCH_QUICK=1`: one round of 1 s per cell (smoke test).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForIdleCpu } from "./cpu-idle.ts";
import { startFakeGitHub } from "./fake-github.ts";
import { FIRST_STEP_BRANCH, type FirstStepSample, firstStepProbe } from "./first-step.ts";
import type { LoadResult } from "./load.ts";
import { runLoadProcess } from "./load-process.ts";
import { machineInfo } from "./machine.ts";
import { BENCH_SECRET, pushBody, pushPayload, sign, WEBHOOK_PATH } from "./payload.ts";
import {
  type Cell,
  PHASES,
  type PhaseId,
  type Results,
  renderResults,
  SERVERS,
  type ServerId,
} from "./report.ts";
import { sampleRss } from "./rss-sampler.ts";
import { memoryOf, pinned, type ServerProcess, startServer } from "./server-process.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = QUICK ? 1 : 4;
const SECONDS = QUICK ? 1 : 4;
const FIRST_STEP_PUSHES = QUICK ? 3 : 10;
const SERVER_CPU = 0;
const LOAD_CPU = 1;
const REPO = "Hello-World";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

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

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

const scratch = mkdtempSync(join(tmpdir(), "deploy-bot-bench-"));
const markDir = join(scratch, "marks");
mkdirSync(markDir);
const configFile = join(scratch, "deploy.config.yaml");
// "bench push" (master) is the matching load; "first step" marks the moment its step's process starts.
writeFileSync(
  configFile,
  `version: 1
pipelines:
  noop:
    steps:
      - name: Nothing
        run: ["true"]
  mark:
    steps:
      - name: Mark
        run: ["sh", "-c", 'touch "$0/$DEPLOYBOT_DELIVERY_ID"', ${JSON.stringify(markDir)}]
rules:
  - name: bench push
    on:
      push:
        branches: [master]
    run: [noop]
  - name: first step
    on:
      push:
        branches: [${FIRST_STEP_BRANCH}]
    run: [mark]
`,
);

function startOne(id: ServerId, gheHost: string): Promise<ServerProcess> {
  const base = { WEBHOOK_SECRET: BENCH_SECRET, WEBHOOK_PATH, LOG_LEVEL: "info", DATABASE_URL: "" };
  if (id === "bare")
    return startServer({ name: id, args: [join(ROOT, "bench/servers/bare.ts")], env: base, cpu: SERVER_CPU });
  if (id === "probot") {
    return startServer({
      name: id,
      args: [join(ROOT, "bench/servers/probot-empty.ts")],
      env: base,
      cpu: SERVER_CPU,
    });
  }
  return startServer({
    name: id,
    args: [join(ROOT, "src/main.ts")],
    env: {
      ...base,
      APP_ID: "123456",
      PRIVATE_KEY: privateKey,
      DATA_DIR: join(scratch, "data"),
      DEPLOY_CONFIG: configFile,
      GHE_HOST: gheHost,
      GHE_PROTOCOL: "http",
      // The bench measures the bot, not bubblewrap: steps run unsandboxed.
      STEP_SANDBOX: "off",
    },
    cpu: SERVER_CPU,
    requirePong: true,
    readyTimeoutMs: 90_000,
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`mode ${QUICK ? "quick" : "full"}: ${ROUNDS} round(s), ${SECONDS} s per cell`);
  const github = await startFakeGitHub(REPO);
  const headSha = await github.work.head();
  const bodies: Record<PhaseId, { body: Buffer; secret: string; senders: number }> = {
    "nomatch-10": { body: pushPayload("refs/heads/not-configured"), secret: BENCH_SECRET, senders: 10 },
    "nomatch-100": { body: pushPayload("refs/heads/not-configured"), secret: BENCH_SECRET, senders: 100 },
    flood: { body: pushPayload(), secret: "not-the-secret", senders: 100 },
    "match-100": {
      body: pushBody({ ref: "refs/heads/master", after: headSha, cloneUrl: github.cloneUrl }),
      secret: BENCH_SECRET,
      senders: 100,
    },
  };

  const servers = new Map<ServerId, ServerProcess>();
  for (const id of SERVERS) servers.set(id, await startOne(id, github.gheHost));
  // After start-up V8 keeps compiling PGlite's WebAssembly for a few seconds: settle before "idle".
  await sleep(QUICK ? 500 : 3000);
  for (const server of servers.values()) await waitForStableRss(server.pid);
  const bot = servers.get("deploy-bot")!;
  const idleRss = Object.fromEntries([...servers].map(([id, s]) => [id, memoryOf(s.pid).rss])) as Record<
    ServerId,
    number
  >;
  log(
    `idle RSS: ${Object.entries(idleRss)
      .map(([id, rss]) => `${id} ${(rss / 2 ** 20).toFixed(0)} MB`)
      .join(", ")}`,
  );
  const botRss = sampleRss(bot.pid);

  const probe = firstStepProbe(markDir, github, bot.port, BENCH_SECRET);
  // Warms the mirror: the figure is for a repository the bot has fetched before.
  const warmUp = await probe.measure();
  log(`first push (cold mirror): step started after ${warmUp.stepStartedMs.toFixed(0)} ms`);

  const cells: Cell[] = [];
  const firstStep: (FirstStepSample & { round: number })[] = [];
  const floodPeakRss: { round: number; server: ServerId; peak: number }[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of PHASES) {
        const spec = bodies[phase];
        // Rotate the order each round so no server always goes first.
        const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]!);
        for (const id of order) {
          const server = servers.get(id)!;
          const sampler = sampleRss(server.pid);
          const result: LoadResult = await runLoadProcess(
            {
              url: `http://127.0.0.1:${server.port}${WEBHOOK_PATH}`,
              connections: spec.senders,
              durationSeconds: SECONDS,
              body: spec.body.toString("base64"),
              headers: {
                "content-type": "application/json",
                "x-github-event": "push",
                "x-hub-signature-256": sign(spec.body, spec.secret),
                "user-agent": "GitHub-Hookshot/bench",
              },
            },
            LOAD_CPU,
          );
          const { maxRss } = sampler.stop();
          if (phase === "flood") floodPeakRss.push({ round, server: id, peak: maxRss });
          cells.push({ round, phase, server: id, ...result });
          log(
            `round ${round + 1} ${phase} ${id}: ${result.perSecond.toFixed(0)}/s p99 ${result.p99} ms` +
              (result.non2xx || result.errors ? ` (non2xx ${result.non2xx}, errors ${result.errors})` : ""),
          );
        }
      }
      // The matching load leaves queued runs behind; measure first steps once the bot has worked them off.
      const waited = await waitForIdleCpu(bot.pid);
      log(`round ${round + 1}: deploy-bot idle after ${waited} ms`);
      for (let i = 0; i < FIRST_STEP_PUSHES; i++) firstStep.push({ round, ...(await probe.measure()) });
      const latest = firstStep.slice(-FIRST_STEP_PUSHES).map((s) => s.stepStartedMs.toFixed(0));
      log(`round ${round + 1} first step (ms): ${latest.join(" ")}`);
    }
  } finally {
    probe.close();
  }
  const { maxRss: botPeakRss } = botRss.stop();
  await waitForStableRss(bot.pid);
  const botIdleAfter = memoryOf(bot.pid).rss;
  const botHwm = memoryOf(bot.pid).hwm;
  for (const server of servers.values()) await server.stop();
  await github.close();

  const results: Results = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: (await import("node:os")).loadavg(),
    quick: QUICK,
    rounds: ROUNDS,
    secondsPerCell: SECONDS,
    pinning: { server: pinned(SERVER_CPU).join(" "), load: pinned(LOAD_CPU).join(" ") },
    idleRss,
    botPeakRss,
    botHwm,
    botIdleAfter,
    floodPeakRss,
    cells,
    firstStepCold: warmUp,
    firstStep,
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, "bench/RESULTS.md"), renderResults(results));
  log(`wrote bench/RESULTS.md and bench/results.json in ${results.elapsedSeconds} s`);
}

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
