/**
 * Chaos, process level: a stream of deliveries (pushes to main — deploys to `production` —, to `staging` —
 * deploys to `staging` —, to two feature branches, and pull request updates) from two concurrent senders, the
 * fake GitHub failing a fifth of the bot's repository calls (500, 502, 429 with Retry-After, connections
 * dropped before or after the call was done), and the bot `kill -9`ed (its whole process group) at random
 * moments and restarted on the same DATA_DIR, with catch-up on (`CATCH_UP_INTERVAL=10s`). Every delivery is
 * listed in the fake GitHub's deliveries (`GET /app/hook/deliveries`) as GitHub would: acknowledged, or failed
 * (sent while the bot was down, or cut off by a kill) — the bot must recover those itself. Afterwards:
 * - every delivery GitHub shows as sent is recorded in the store's `deliveries` table (exactly once: its
 *   GUID is the key), directly or by recovery, and has the runs its rules plan;
 * - every pipeline of every delivery has a final run whose state is what GitHub's newest status says; none
 *   pending;
 * - no run ran twice, no deploy ran twice for one delivery, and runs of one environment never overlapped
 *   (from the start/end timestamps the steps append to a scratch file);
 * - the pull request has exactly one bot comment, showing only final states.
 * Random choices come from one seed, printed with the figures and in any failure: `CHAOS_SEED=<n>` repeats them
 * (timing still varies). `CHAOS_DELIVERIES` sets how many deliveries are sent (default 24, for CI),
 * `CHAOS_KILLS` how many kills (default 2–3). The full run:
 * `CHAOS_DELIVERIES=200 CHAOS_KILLS=5 npx vitest run test/process/chaos.test.ts`.
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { githubState } from "../../src/report/render-status.ts";
import type { RunState } from "../../src/runs/run.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { git } from "../helpers/git-remote.ts";
import { waitFor } from "./bot-process.ts";
import type { Fault } from "./fake-github.ts";
import { FULL_NAME, PR_NUMBER, type Scenario, withScenario } from "./scenario.ts";

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const DELIVERIES = Number(process.env.CHAOS_DELIVERIES ?? 24);
/** Undefined: 2 or 3 (seeded). */
const KILLS = process.env.CHAOS_KILLS === undefined ? undefined : Number(process.env.CHAOS_KILLS);
const FAULT_RATE = 0.2;

/** A small seeded PRNG (mulberry32): the same seed gives the same choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const config = (scratch: string) => {
  const trace = JSON.stringify(path.join(scratch, "trace"));
  const line = (what: string) =>
    `printf '%s %s %s ${what} %s\\n' "$DEPLOYBOT_RUN_ID" "$DEPLOYBOT_PIPELINE" "$DEPLOYBOT_DELIVERY_ID" "$(date +%s%N)" >> ${trace}`;
  return `version: 1
settings:
  concurrency: 2
pipelines:
  test:
    steps:
      - name: Test
        run: ${line("start")} && sleep 0.3 && ${line("end")}
  deploy-staging:
    environment: staging
    steps:
      - name: Deploy
        run: ${line("start")} && sleep 0.5 && ${line("end")}
  deploy-production:
    environment: production
    steps:
      - name: Deploy
        run: ${line("start")} && sleep 0.5 && ${line("end")}
rules:
  - name: test every push and pull request
    on:
      push:
        branches: ['**']
      pull_request:
        types: [opened, synchronize]
    run: [test]
  - name: deploy main to production
    on:
      push:
        branches: [main]
    run: [test, deploy-production]
  - name: deploy staging
    on:
      push:
        branches: [staging]
    run: [test, deploy-staging]
`;
};

type Kind = "main" | "staging" | "feature" | "pull_request";
const BRANCHES = ["main", "staging", "feature-1", "feature-2", "changes"];

interface Planned {
  readonly id: string;
  readonly kind: Kind;
  readonly event: "push" | "pull_request";
  readonly sha: string;
  readonly payload: Record<string, unknown>;
  readonly contexts: readonly string[];
}

interface Sent {
  readonly planned: Planned;
  readonly status: number;
  readonly text: string;
}

const faultOf =
  (random: () => number, counts: Map<string, number>) =>
  ({ path: p }: { method: string; path: string }): Fault | undefined => {
    if (!p.startsWith("/repos/") || random() >= FAULT_RATE) return undefined;
    const k = random();
    const fault: Fault =
      k < 0.3
        ? { status: 500 }
        : k < 0.55
          ? { status: 502 }
          : k < 0.75
            ? { status: 429, headers: { "retry-after": "1" } }
            : k < 0.9
              ? "drop"
              : "drop-after";
    const name = typeof fault === "string" ? fault : String(fault.status);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return fault;
  };

/** Commits for every planned delivery (each its own SHA), pushed so that each is reachable from its ref. */
async function plan(s: Scenario, random: () => number): Promise<Planned[]> {
  const kinds: { kind: Kind; branch: string }[] = [];
  for (let i = 0; i < DELIVERIES; i += 1) {
    const r = random();
    if (r < 0.2) kinds.push({ kind: "main", branch: "main" });
    else if (r < 0.4) kinds.push({ kind: "staging", branch: "staging" });
    else if (r < 0.65) kinds.push({ kind: "feature", branch: `feature-${1 + Math.floor(random() * 2)}` });
    else kinds.push({ kind: "pull_request", branch: "changes" });
  }
  const shas: string[] = [];
  for (const branch of BRANCHES) {
    await git(s.work.dir, "checkout", "--quiet", "-B", branch, "main");
    for (const [i, k] of kinds.entries())
      if (k.branch === branch)
        shas[i] = await s.work.commit({ "change.txt": `${branch} ${i}\n` }, `change ${i}`);
  }
  for (const branch of BRANCHES) await s.work.push(`+refs/heads/${branch}:refs/heads/${branch}`);
  await s.work.push(`+refs/heads/changes:refs/pull/${PR_NUMBER}/head`);
  let opened = false;
  return kinds.map(({ kind, branch }, i) => {
    const sha = shas[i]!;
    const id = randomUUID();
    if (kind === "pull_request") {
      const action = opened ? "synchronize" : "opened";
      opened = true;
      return {
        id,
        kind,
        event: "pull_request",
        sha,
        payload: s.prPayload(action, sha),
        contexts: ["deploy-bot/test"],
      };
    }
    return {
      id,
      kind,
      event: "push",
      sha,
      payload: s.pushPayload(sha, undefined, branch),
      contexts:
        kind === "main"
          ? ["deploy-bot/test", "deploy-bot/deploy-production"]
          : kind === "staging"
            ? ["deploy-bot/test", "deploy-bot/deploy-staging"]
            : ["deploy-bot/test"],
    };
  });
}

/** SIGKILLs the step processes of these deliveries (they run in process groups of their own); returns how many. */
async function killSteps(deliveryIds: ReadonlySet<string>): Promise<number> {
  let killed = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = (await readFile(`/proc/${entry}/environ`, "latin1")).split("\0");
      const id = environ.find((v) => v.startsWith("DEPLOYBOT_DELIVERY_ID="))?.slice(22);
      if (id !== undefined && deliveryIds.has(id)) {
        process.kill(Number(entry), "SIGKILL");
        killed += 1;
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return killed;
}

interface TraceLine {
  readonly runId: string;
  readonly pipeline: string;
  readonly deliveryId: string;
  readonly what: "start" | "end";
  readonly ns: bigint;
}

async function readTrace(scratch: string): Promise<TraceLine[]> {
  const text = await readFile(path.join(scratch, "trace"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [runId, pipeline, deliveryId, what, ns] = line.split(" ") as [
        string,
        string,
        string,
        string,
        string,
      ];
      return { runId, pipeline, deliveryId, what: what as "start" | "end", ns: BigInt(ns) };
    });
}

/** The figures of the run so far, for a failure message. */
let failureFigures: (() => object) | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type StoredRun = {
  readonly id: string;
  readonly delivery_id: string;
  readonly pipeline: string;
  readonly sha: string;
  readonly state: RunState;
  readonly seq: string;
};

/** The store after the run (the bot stopped): every delivery id, and every run. */
async function readStore(dataDir: string) {
  const db = await openDatabase({ dataDir });
  try {
    const deliveries = await db.query<{ id: string; outcome: string }>("SELECT id, outcome FROM deliveries");
    const runs = await db.query<StoredRun>(
      "SELECT id, delivery_id, pipeline, sha, state, seq::text AS seq FROM runs ORDER BY runs.seq",
    );
    return { deliveries, runs };
  } finally {
    await db.close();
  }
}

async function chaos(): Promise<void> {
  const random = prng(SEED);
  const faultCounts = new Map<string, number>();
  const faults = faultOf(prng(SEED ^ 0x5bd1e995), faultCounts);
  const started = Date.now();
  const env = { CATCH_UP: "on", CATCH_UP_INTERVAL: "10s" };
  await withScenario({ configYaml: config, faults, env }, async (s) => {
    const planned = await plan(s, random);
    const ids = new Set(planned.map((p) => p.id));
    const gaps = planned.map(() => 300 + Math.floor(random() * 1200));
    const killCount = KILLS ?? 2 + (random() < 0.5 ? 1 : 0);
    // Kill points: after a random number of deliveries have been sent, plus a random moment.
    const killAfter = Array.from({ length: killCount }, () => ({
      answered: 2 + Math.floor(random() * (DELIVERIES - 3)),
      delayMs: Math.floor(random() * 1000),
    })).sort((x, y) => x.answered - y.answered);

    // Two senders share the stream, as GitHub would send it: while the bot is down (killed, restarting) a
    // delivery fails to connect; one cut off by a kill fails too. Either way GitHub lists it as sent (status
    // 502), and nothing sends it again: the bot's catch-up must recover it.
    const sent: Sent[] = [];
    let down = false;
    let next = 0;
    const sender = async () => {
      for (;;) {
        const index = next++;
        const p = planned[index];
        if (!p) return;
        await sleep(gaps[index]!);
        if (down) {
          s.github.deliveries.made(p.event, p.payload, { guid: p.id });
          sent.push({ planned: p, status: 0, text: "sent while the bot was down" });
          continue;
        }
        let answer: { status: number; text: string };
        try {
          answer = await s.bot.send(p.event, p.payload, p.id);
        } catch (error) {
          answer = { status: 0, text: `cut off: ${String(error).slice(0, 40)}` };
        }
        const ok = answer.status >= 200 && answer.status < 300;
        s.github.deliveries.made(p.event, p.payload, { guid: p.id, statusCode: ok ? 202 : 502 });
        sent.push({ planned: p, ...answer });
      }
    };
    const t0 = Date.now();
    const kills: { atMs: number; steps: number; restartMs: number }[] = [];
    const killer = async () => {
      for (const point of killAfter) {
        await waitFor("deliveries to kill after", () => sent.length >= point.answered, 600_000);
        await sleep(point.delayMs);
        const atMs = Date.now() - t0;
        down = true;
        try {
          expect((await s.bot.kill9()).signal).toBe("SIGKILL");
          const steps = await killSteps(ids);
          const before = Date.now();
          await s.restart();
          kills.push({ atMs, steps, restartMs: Date.now() - before });
        } finally {
          down = false;
        }
      }
    };
    await Promise.all([sender(), sender(), killer()]);

    const acknowledged = sent.filter((d) => d.status >= 200 && d.status < 300);
    const outcomes = Object.fromEntries(
      [...Map.groupBy(sent, (d) => `${d.status} ${d.text.slice(0, 60).trim()}`)].map(([k, v]) => [
        k,
        v.length,
      ]),
    );
    const figures = () => ({
      seed: SEED,
      deliveries: planned.length,
      sent: sent.length,
      acknowledged: acknowledged.length,
      outcomes,
      kills,
      faults: Object.fromEntries(faultCounts),
      recoveredFetches: s.github.deliveries.fetched.length,
      statusCalls: s.github.calls.filter((c) => c.path.includes("/statuses/")).length,
      commentWrites: s.github.calls.filter((c) => c.path.includes("/comments") && c.method !== "GET").length,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    failureFigures = figures;
    expect(sent).toHaveLength(DELIVERIES);
    for (const d of acknowledged)
      expect(d.text, d.planned.kind).toBe(`accepted: ${d.planned.contexts.length} runs queued\n`);
    expect(kills).toHaveLength(killCount);

    const newestByContext = () => {
      const newest = new Map<string, { state: string; description?: string }>();
      for (const c of s.github.statuses({ repo: FULL_NAME })) newest.set(`${c.sha} ${c.context}`, c);
      return newest;
    };
    const comments = () => s.github.comments(FULL_NAME, PR_NUMBER);
    const prPlanned = planned.some((p) => p.kind === "pull_request");
    // 1. Every delivery GitHub lists is recorded: a catch-up walk (every 10 s) saw all of them recorded.
    const allRecorded = () =>
      s.bot
        .output()
        .split("\n")
        .filter((line) => line.includes('"msg":"catch-up walk done"'))
        .map((line) => JSON.parse(line) as { listed: number; recorded: number })
        .some((walk) => walk.listed === DELIVERIES && walk.recorded === DELIVERIES);
    await waitFor(
      "a catch-up walk that finds every delivery recorded",
      allRecorded,
      120_000 + DELIVERIES * 500,
    );
    // 2. Which runs they planned (a recovered push older than one already accepted for its branch runs
    //    nothing: recorded `ignored`, stale), read from the store while the bot is stopped.
    await s.bot.stop();
    const before = await readStore(s.dataDir);
    await s.restart();
    const expected = new Map<string, Set<string>>();
    for (const run of before.runs)
      expected.set(
        run.delivery_id,
        (expected.get(run.delivery_id) ?? new Set()).add(`deploy-bot/${run.pipeline}`),
      );
    const settled = () => {
      const newest = newestByContext();
      const missing = planned.flatMap((p) =>
        [...(expected.get(p.id) ?? [])].filter((c) => {
          const status = newest.get(`${p.sha} ${c}`);
          return status === undefined || status.state === "pending";
        }),
      );
      const pending = [...newest.values()].filter((c) => c.state === "pending");
      const commentDone = !prPlanned || (comments().length === 1 && !comments()[0]!.body.includes("⏳"));
      return missing.length === 0 && pending.length === 0 && commentDone;
    };
    try {
      await waitFor(
        "every run's final status, none pending, one final comment",
        settled,
        120_000 + DELIVERIES * 500,
      );
    } catch (error) {
      const newest = newestByContext();
      const open = planned.flatMap((p) =>
        [...(expected.get(p.id) ?? [])]
          .map(
            (c) =>
              `${p.kind} ${p.sha.slice(0, 7)} ${c}: ${newest.get(`${p.sha} ${c}`)?.state ?? "none"} (${sent.find((d) => d.planned === p)?.status})`,
          )
          .filter((line) => !/ (success|failure|error) \(/.test(line)),
      );
      (error as Error).message += `\nnot final:\n  ${open.join("\n  ")}\ncomments: ${comments().length}`;
      throw error;
    }

    // 3. The store, read after a clean stop: every delivery accepted once, its runs final and as GitHub shows.
    await s.bot.stop();
    const store = await readStore(s.dataDir);
    const recorded = new Map(store.deliveries.map((d) => [d.id, d]));
    expect(
      planned.filter((p) => !recorded.has(p.id)).map((p) => `${p.kind} ${p.id}`),
      "deliveries GitHub sent that the bot never accepted",
    ).toEqual([]);
    expect(store.deliveries.length, "deliveries recorded").toBe(planned.length);
    const newest = newestByContext();
    const runsOf = Map.groupBy(store.runs, (r) => `${r.delivery_id} ${r.pipeline}`);
    // An interrupted test run is re-queued as a fresh run of the same commit: the newest run of a commit's
    // pipeline is what GitHub must show (each planned delivery has a commit of its own).
    const newestRunOf = new Map(store.runs.map((r) => [`${r.sha} ${r.pipeline}`, r]));
    const mismatched: string[] = [];
    let stale = 0;
    for (const p of planned) {
      const hasRuns = store.runs.some((r) => r.delivery_id === p.id);
      if (!hasRuns) {
        // Recovered after a newer delivery for its branch was accepted: runs nothing, and GitHub shows nothing.
        stale += 1;
        if (recorded.get(p.id)?.outcome !== "ignored" || p.contexts.some((c) => newest.has(`${p.sha} ${c}`)))
          mismatched.push(`${p.kind} ${p.sha.slice(0, 7)}: no runs, outcome ${recorded.get(p.id)?.outcome}`);
        continue;
      }
      for (const context of p.contexts) {
        const pipeline = context.slice("deploy-bot/".length);
        const runs = runsOf.get(`${p.id} ${pipeline}`) ?? [];
        const last = newestRunOf.get(`${p.sha} ${pipeline}`);
        const status = newest.get(`${p.sha} ${context}`)?.state;
        if (last === undefined || githubState(last.state) !== status || status === "pending")
          mismatched.push(`${p.kind} ${p.sha.slice(0, 7)} ${pipeline}: run ${last?.state}, GitHub ${status}`);
        // Deploys are never re-queued: one run per delivery and environment.
        if (pipeline.startsWith("deploy-") && runs.length !== 1)
          mismatched.push(`${p.kind} ${p.sha.slice(0, 7)} ${pipeline}: ${runs.length} runs`);
      }
    }
    expect(mismatched, "runs whose final state GitHub does not show").toEqual([]);

    const trace = await readTrace(s.scratch);
    const starts = trace.filter((t) => t.what === "start");
    const startsByRun = Map.groupBy(starts, (t) => t.runId);
    expect(
      [...startsByRun.values()].filter((list) => list.length > 1),
      "runs that ran twice",
    ).toEqual([]);
    const deploysByDelivery = Map.groupBy(
      starts.filter((t) => t.pipeline.startsWith("deploy-")),
      (t) => `${t.deliveryId} ${t.pipeline}`,
    );
    expect(
      [...deploysByDelivery.values()].filter((list) => list.length > 1),
      "deploys run twice",
    ).toEqual([]);
    // Runs of one environment that ran to their end never overlapped (a killed one has no end: its step was
    // killed with the bot).
    const finished: Record<string, number> = {};
    for (const pipeline of ["deploy-staging", "deploy-production"]) {
      const deploys = starts
        .filter((t) => t.pipeline === pipeline)
        .flatMap((start) => {
          const end = trace.find((t) => t.runId === start.runId && t.what === "end");
          return end ? [{ start: start.ns, end: end.ns }] : [];
        })
        .sort((a, b) => (a.start < b.start ? -1 : 1));
      finished[pipeline] = deploys.length;
      for (let i = 1; i < deploys.length; i += 1)
        expect(deploys[i]!.start > deploys[i - 1]!.end, `${pipeline} runs overlapped`).toBe(true);
    }
    if (prPlanned) expect(comments()).toHaveLength(1);

    const done = {
      ...figures(),
      recorded: store.deliveries.length,
      staleRecovered: stale,
      runs: store.runs.length,
      runStates: Object.fromEntries(
        [...Map.groupBy(store.runs, (r) => r.state)].map(([k, v]) => [k, v.length]),
      ),
      runsStarted: startsByRun.size,
      deploysFinished: finished,
    };
    console.log(`chaos figures: ${JSON.stringify(done)}`);
  });
}

describe("chaos: kill -9, restarts, missed deliveries and a failing GitHub", () => {
  it("every delivery GitHub sent is accepted once, ends final as GitHub shows, nothing runs twice", {
    timeout: 300_000 + DELIVERIES * 3000,
  }, async () => {
    try {
      await chaos();
    } catch (error) {
      if (error instanceof Error)
        error.message = `CHAOS_SEED=${SEED}: ${error.message}\nfigures: ${JSON.stringify(failureFigures?.())}`;
      throw error;
    }
  });
});
