/**
 * Chaos, process level: a stream of push and pull_request deliveries from two concurrent senders, the fake
 * GitHub failing a fifth of the bot's repository calls (500, 502, 429 with Retry-After, connections dropped
 * before or after the call was done), and the bot `kill -9`ed (its whole process group) at 2–3 random moments
 * and restarted on the same DATA_DIR. Afterwards:
 * - every delivery the bot acknowledged with 2xx has every pipeline's final status on GitHub;
 * - no status on GitHub is left pending;
 * - no run ran twice, no deploy ran twice for one delivery, and deploys never overlapped;
 * - the pull request has exactly one bot comment, showing only final states.
 * Random choices come from one seed, printed with the figures and in any failure: `CHAOS_SEED=<n>` repeats them
 * (timing still varies). `CHAOS_DELIVERIES` sets how many deliveries are sent (default 24).
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { git } from "../helpers/git-remote.ts";
import { waitFor } from "./bot-process.ts";
import type { Fault } from "./fake-github.ts";
import { FULL_NAME, PR_NUMBER, type Scenario, withScenario } from "./scenario.ts";

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const DELIVERIES = Number(process.env.CHAOS_DELIVERIES ?? 24);
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
  deploy:
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
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;
};

type Kind = "main" | "feature" | "pull_request";

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
    if (r < 0.25) kinds.push({ kind: "main", branch: "main" });
    else if (r < 0.6) kinds.push({ kind: "feature", branch: `feature-${1 + Math.floor(random() * 2)}` });
    else kinds.push({ kind: "pull_request", branch: "changes" });
  }
  const shas: string[] = [];
  for (const branch of ["main", "feature-1", "feature-2", "changes"]) {
    await git(s.work.dir, "checkout", "--quiet", "-B", branch, "main");
    for (const [i, k] of kinds.entries())
      if (k.branch === branch)
        shas[i] = await s.work.commit({ "change.txt": `${branch} ${i}\n` }, `change ${i}`);
  }
  for (const branch of ["main", "feature-1", "feature-2", "changes"])
    await s.work.push(`+refs/heads/${branch}:refs/heads/${branch}`);
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
      contexts: kind === "main" ? ["deploy-bot/test", "deploy-bot/deploy"] : ["deploy-bot/test"],
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

async function chaos(): Promise<void> {
  const random = prng(SEED);
  const faultCounts = new Map<string, number>();
  const faults = faultOf(prng(SEED ^ 0x5bd1e995), faultCounts);
  const started = Date.now();
  await withScenario({ configYaml: config, faults }, async (s) => {
    const planned = await plan(s, random);
    const ids = new Set(planned.map((p) => p.id));
    const gaps = planned.map(() => 300 + Math.floor(random() * 1200));
    const killCount = 2 + (random() < 0.5 ? 1 : 0);
    // Kill points: after a random number of deliveries have been answered, plus a random moment.
    const killAfter = Array.from({ length: killCount }, () => ({
      answered: 2 + Math.floor(random() * (DELIVERIES - 3)),
      delayMs: Math.floor(random() * 1000),
    })).sort((x, y) => x.answered - y.answered);

    // Two senders share the stream. They hold off while the bot restarts (so most deliveries meet a running
    // bot); one the bot does not answer (killed mid-request) is not sent again: recovering it is not this test's.
    const sent: Sent[] = [];
    let next = 0;
    let up: Promise<unknown> = Promise.resolve();
    const sender = async () => {
      for (;;) {
        const index = next++;
        const p = planned[index];
        if (!p) return;
        await sleep(gaps[index]!);
        await up;
        try {
          const answer = await s.bot.send(p.event, p.payload, p.id);
          sent.push({ planned: p, status: answer.status, text: answer.text });
        } catch (error) {
          sent.push({ planned: p, status: 0, text: String(error) });
        }
      }
    };
    const t0 = Date.now();
    const kills: { atMs: number; steps: number; restartMs: number }[] = [];
    const killer = async () => {
      for (const point of killAfter) {
        await waitFor("deliveries to kill after", () => sent.length >= point.answered, 120_000);
        await sleep(point.delayMs);
        const atMs = Date.now() - t0;
        // The senders hold off from the kill until the bot answers again.
        const back = Promise.withResolvers<void>();
        up = back.promise;
        const killAndRestart = async () => {
          expect((await s.bot.kill9()).signal).toBe("SIGKILL");
          const steps = await killSteps(ids);
          const before = Date.now();
          await s.restart();
          return { steps, restartMs: Date.now() - before };
        };
        try {
          kills.push({ atMs, ...(await killAndRestart()) });
        } finally {
          back.resolve();
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
      acknowledged: acknowledged.length,
      outcomes,
      kills,
      faults: Object.fromEntries(faultCounts),
      statusCalls: s.github.calls.filter((c) => c.path.includes("/statuses/")).length,
      commentWrites: s.github.calls.filter((c) => c.path.includes("/comments") && c.method !== "GET").length,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    failureFigures = figures;
    for (const d of acknowledged)
      expect(d.text, d.planned.kind).toBe(`accepted: ${d.planned.contexts.length} runs queued\n`);
    expect(acknowledged.length).toBeGreaterThanOrEqual(DELIVERIES / 2);

    const newestByContext = () => {
      const newest = new Map<string, { state: string; description?: string }>();
      for (const c of s.github.statuses({ repo: FULL_NAME })) newest.set(`${c.sha} ${c.context}`, c);
      return newest;
    };
    const comments = () => s.github.comments(FULL_NAME, PR_NUMBER);
    const prAcknowledged = acknowledged.some((d) => d.planned.kind === "pull_request");
    const settled = () => {
      const newest = newestByContext();
      const missing = acknowledged.flatMap((d) =>
        d.planned.contexts.filter((c) => {
          const status = newest.get(`${d.planned.sha} ${c}`);
          return status === undefined || status.state === "pending";
        }),
      );
      const pending = [...newest.values()].filter((c) => c.state === "pending");
      const commentDone = !prAcknowledged || (comments().length === 1 && !comments()[0]!.body.includes("⏳"));
      return missing.length === 0 && pending.length === 0 && commentDone;
    };
    try {
      await waitFor(
        "every acknowledged delivery's final statuses, none pending, one final comment",
        settled,
        120_000,
      );
    } catch (error) {
      const newest = newestByContext();
      const open = acknowledged.flatMap((d) =>
        d.planned.contexts
          .map(
            (c) =>
              `${d.planned.kind} ${d.planned.sha.slice(0, 7)} ${c}: ${newest.get(`${d.planned.sha} ${c}`)?.state ?? "none"}`,
          )
          .filter(
            (line) => !line.endsWith("success") && !line.endsWith("failure") && !line.endsWith("error"),
          ),
      );
      (error as Error).message += `\nnot final:\n  ${open.join("\n  ")}\ncomments: ${comments().length}`;
      throw error;
    }

    const trace = await readTrace(s.scratch);
    const starts = trace.filter((t) => t.what === "start");
    const startsByRun = Map.groupBy(starts, (t) => t.runId);
    expect(
      [...startsByRun.values()].filter((list) => list.length > 1),
      "runs that ran twice",
    ).toEqual([]);
    const deploysByDelivery = Map.groupBy(
      starts.filter((t) => t.pipeline === "deploy"),
      (t) => t.deliveryId,
    );
    expect(
      [...deploysByDelivery.values()].filter((list) => list.length > 1),
      "deploys run twice",
    ).toEqual([]);
    // Deploys that ran to their end never overlapped (one environment runs one deploy at a time).
    const deploys = starts
      .filter((t) => t.pipeline === "deploy")
      .flatMap((start) => {
        const end = trace.find((t) => t.runId === start.runId && t.what === "end");
        return end ? [{ start: start.ns, end: end.ns }] : [];
      })
      .sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < deploys.length; i += 1)
      expect(deploys[i]!.start > deploys[i - 1]!.end, "deploys overlapped").toBe(true);
    if (prAcknowledged) expect(comments()).toHaveLength(1);

    const done = { ...figures(), runsStarted: startsByRun.size, deploysFinished: deploys.length };
    console.log(`chaos figures: ${JSON.stringify(done)}`);
  });
}

describe("chaos: kill -9, restarts and a failing GitHub", () => {
  it("every acknowledged delivery ends with final statuses, nothing runs twice, one PR comment", {
    timeout: 240_000,
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
