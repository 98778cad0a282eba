import type { LoadResult } from "./load.ts";
import type { MachineInfo } from "./machine.ts";

export const SERVERS = ["bare", "probot", "deploy-bot"] as const;
export type ServerId = (typeof SERVERS)[number];
export const PHASES = ["nomatch-10", "nomatch-100", "flood", "match-100"] as const;
export type PhaseId = (typeof PHASES)[number];

const SERVER_LABELS: Record<ServerId, string> = {
  bare: "bare node:http + HMAC + JSON.parse",
  probot: "Probot 14, empty app",
  "deploy-bot": "deploy-bot (embedded PGlite)",
};
const PHASE_LABELS: Record<PhaseId, string> = {
  "nomatch-10": "non-matching push, 10 senders",
  "nomatch-100": "non-matching push, 100 senders",
  flood: "bad-signature flood, 100 senders",
  "match-100": "matching push (durable), 100 senders",
};

export interface Cell extends LoadResult {
  round: number;
  phase: PhaseId;
  server: ServerId;
}

export interface Results {
  date: string;
  machine: MachineInfo;
  loadAverage: number[];
  quick: boolean;
  rounds: number;
  secondsPerCell: number;
  pinning: { server: string; load: string };
  idleRss: Record<ServerId, number>;
  botPeakRss: number;
  botHwm: number;
  botIdleAfter: number;
  floodPeakRss: { round: number; server: ServerId; peak: number }[];
  cells: Cell[];
  firstStepCold: { acknowledgedMs: number; stepStartedMs: number };
  firstStep: { round: number; acknowledgedMs: number; stepStartedMs: number }[];
  elapsedSeconds: number;
}

const MB = 2 ** 20;
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : "—");
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "—");
const mb = (n: number) => (Number.isFinite(n) && n > 0 ? `${(n / MB).toFixed(0)} MB` : "—");
const pass = (ok: boolean) => (ok ? "met" : "**missed**");

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function cell(r: Results, round: number, phase: PhaseId, server: ServerId): Cell | undefined {
  return r.cells.find((c) => c.round === round && c.phase === phase && c.server === server);
}

/** deploy-bot ÷ baseline in one round and phase (the figure the targets are set in). */
export function roundRatio(r: Results, round: number, phase: PhaseId, base: ServerId): number {
  const bot = cell(r, round, phase, "deploy-bot");
  const other = cell(r, round, phase, base);
  return bot && other && other.perSecond > 0 ? bot.perSecond / other.perSecond : Number.NaN;
}

const rounds = (r: Results) => Array.from({ length: r.rounds }, (_, i) => i);

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The issue's targets, each with its figure from this run: the median over rounds, and the worst round
 * (a target counts as met only if the median meets it).
 */
export function targets(r: Results) {
  const perRound = (f: (round: number) => number) => rounds(r).map(f);
  const both = (values: number[], higherIsBetter: boolean, format: (n: number) => string) => {
    const worst = higherIsBetter ? Math.min(...values) : Math.max(...values);
    return { median: median(values), text: `${format(median(values))} (worst round ${format(worst)})` };
  };
  const nomatch10 = both(
    perRound((i) => roundRatio(r, i, "nomatch-10", "probot")),
    true,
    x,
  );
  const p99 = both(
    perRound((i) => cell(r, i, "nomatch-100", "deploy-bot")?.p99 ?? Number.NaN),
    false,
    ms,
  );
  const matching = both(
    perRound((i) => roundRatio(r, i, "match-100", "probot")),
    true,
    x,
  );
  const flood = both(
    perRound((i) => roundRatio(r, i, "flood", "bare")),
    true,
    x,
  );
  const floodRss = Math.max(...r.floodPeakRss.filter((f) => f.server === "deploy-bot").map((f) => f.peak));
  const firstStepP50 = percentile(
    r.firstStep.map((s) => s.stepStartedMs),
    50,
  );
  return [
    {
      target: "non-matching ≥ 1.0× empty Probot, 10 senders",
      figure: nomatch10.text,
      met: nomatch10.median >= 1,
    },
    { target: "non-matching p99 ≤ 50 ms, 100 senders", figure: p99.text, met: p99.median <= 50 },
    { target: "matching ≥ 0.5× empty Probot", figure: matching.text, met: matching.median >= 0.5 },
    { target: "flood ≥ 0.8× bare", figure: flood.text, met: flood.median >= 0.8 },
    { target: "peak RSS in the flood ≤ 200 MB", figure: mb(floodRss), met: floodRss <= 200 * MB },
    {
      target: "idle RSS of the embedded server ≤ 200 MB",
      figure: mb(r.idleRss["deploy-bot"]),
      met: r.idleRss["deploy-bot"] <= 200 * MB,
    },
    {
      target: "push → first step p50 ≤ 150 ms (warm mirror)",
      figure: ms(firstStepP50),
      met: firstStepP50 <= 150,
    },
  ];
}

export function renderResults(r: Results): string {
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    "# deploy-bot benchmark results",
    "",
    `Generated by \`npm run bench\` on ${r.date.slice(0, 10)}${r.quick ? " (BENCH_QUICK=1 smoke run: not figures to quote)" : ""}, in ${r.elapsedSeconds} s.`,
    "",
    `- Machine: ${r.machine.nproc} CPUs (nproc), ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB RAM, ${r.machine.kernel}; Node ${r.machine.node}. Load average at the end: ${r.loadAverage.map((l) => l.toFixed(2)).join(" ")}.`,
    "- Absolute figures depend on the machine and on what else ran on it (see the load average; the bench itself keeps both cores busy); the ratios compare servers measured back to back in the same round.",
    `- One long-lived process per server, started once and kept for the whole run (as a real one lives), pinned with \`${r.pinning.server || "(no taskset)"}\`; autocannon in a child pinned with \`${r.pinning.load || "(no taskset)"}\`. deploy-bot's embedded database runs in a worker thread of the same process, so it inherits the pinning and shares CPU 0 with the HTTP thread: it takes the webhook's event loop's time no longer, but still the same core's.`,
    `- Each round runs the mixed sequence ${PHASES.map((p) => `\`${p}\``).join(" → ")} (${r.secondsPerCell} s per server per phase, server order rotated each round), then push → first step. ${r.rounds} round(s).`,
    "- Payload: the 7.6 KB signed `push` from `@octokit/webhooks-examples`, a unique `X-GitHub-Delivery` per request. Non-matching: ref `refs/heads/not-configured` (answered after the ignored delivery is recorded). Matching: `refs/heads/master`, which queues a real run (a one-step `true` pipeline) against a local repository; the bot checks it out and runs it while later phases go on, superseding waiting runs of the same branch. Flood: a wrong signature.",
    "- deploy-bot: `src/main.ts`, embedded PGlite (fresh `DATA_DIR`), GitHub API faked on 127.0.0.1 (`GHE_HOST`), `STEP_SANDBOX=off`.",
    "",
    "## Targets (issue 12): median over rounds (worst round)",
    "",
    "| target | this run | |",
    "|---|---:|---|",
    ...targets(r).map((t) => `| ${t.target} | ${t.figure} | ${pass(t.met)} |`),
    "",
    "## Per round",
    "",
    "| round | phase | server | deliveries/s | p50 | p99 | × empty Probot | × bare | 2xx | non-2xx | errors |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const round of rounds(r)) {
    for (const phase of PHASES) {
      for (const server of SERVERS) {
        const c = cell(r, round, phase, server);
        if (!c) continue;
        const vsProbot = server === "deploy-bot" ? x(roundRatio(r, round, phase, "probot")) : "";
        const vsBare = server === "deploy-bot" ? x(roundRatio(r, round, phase, "bare")) : "";
        push(
          `| ${round + 1} | ${PHASE_LABELS[phase]} | ${SERVER_LABELS[server]} | ${int(c.perSecond)} | ${ms(c.p50)} | ${ms(c.p99)} | ${vsProbot} | ${vsBare} | ${int(c.ok2xx)} | ${int(c.non2xx)} | ${int(c.errors + c.timeouts)} |`,
        );
      }
    }
  }
  push(
    "",
    "## Memory (RSS)",
    "",
    "| server | idle, after start-up | peak in the floods |",
    "|---|---:|---:|",
    ...SERVERS.map(
      (s) =>
        `| ${SERVER_LABELS[s]} | ${mb(r.idleRss[s])} | ${mb(Math.max(...r.floodPeakRss.filter((f) => f.server === s).map((f) => f.peak)))} |`,
    ),
    "",
    `deploy-bot over the whole run: peak RSS sampled ${mb(r.botPeakRss)}, high-water mark since start ${mb(r.botHwm)} (includes the start-up WebAssembly compilation), idle again at the end ${mb(r.botIdleAfter)}.`,
    "",
    "## Push → first step running (warm mirror)",
    "",
    "From sending the webhook to the step's process having started (it creates a file; the bench watches the directory), one push at a time, each a new commit on branch `first-step` of a small repository served over smart HTTP on 127.0.0.1; measured after each round's loads, once the bot's CPU had gone idle.",
    "",
    "| pushes | acknowledged p50 | step started p50 | p99 | max |",
    "|---:|---:|---:|---:|---:|",
    `| ${r.firstStep.length} | ${ms(
      percentile(
        r.firstStep.map((s) => s.acknowledgedMs),
        50,
      ),
    )} | ${ms(
      percentile(
        r.firstStep.map((s) => s.stepStartedMs),
        50,
      ),
    )} | ${ms(
      percentile(
        r.firstStep.map((s) => s.stepStartedMs),
        99,
      ),
    )} | ${ms(Math.max(...r.firstStep.map((s) => s.stepStartedMs)))} |`,
    "",
    `The very first push (cold mirror, before round 1): step started after ${ms(r.firstStepCold.stepStartedMs)}.`,
    "",
  );
  return lines.join("\n");
}
