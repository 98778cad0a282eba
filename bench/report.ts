import type { LoadResult } from "./load.ts";
import type { MachineInfo } from "./machine.ts";
import { median } from "./stats.ts";

export interface ThroughputCell extends LoadResult {
  round: number;
  senders: number;
  target: string;
}

export interface FloodCell {
  round: number;
  target: string;
  rejectsPerSecond: number;
  rejected: number;
  accepted: number;
  errors: number;
  rssBefore: number;
  maxRss: number;
  lastRss: number;
  peakHwm: number;
  bytesLogged: number;
  bytesPerReject: number;
}

export interface Results {
  date: string;
  machine: MachineInfo;
  quick: boolean;
  rounds: number;
  secondsPerCell: number;
  floodSenders: number;
  pinning: { server: string; load: string };
  deployBot: string;
  targets: { id: string; label: string }[];
  idleRss: Record<string, number>;
  throughput: ThroughputCell[];
  flood: FloodCell[];
  others: Record<string, { status: "ok" | "absent" | "error"; figures?: object; error?: string }>;
  elapsedSeconds: number;
}

const MB = 2 ** 20;
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : "—");
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "—");
const mb = (n: number) => (Number.isFinite(n) && n > 0 ? `${(n / MB).toFixed(0)} MB` : "—");

/** Per-round ratio of `target` to `base` (same round, same senders), then the median of those ratios. */
function ratio(cells: ThroughputCell[], target: string, base: string, senders: number): number {
  const ratios: number[] = [];
  for (const cell of cells.filter((c) => c.target === target && c.senders === senders)) {
    const b = cells.find((c) => c.target === base && c.senders === senders && c.round === cell.round);
    if (b && b.perSecond > 0) ratios.push(cell.perSecond / b.perSecond);
  }
  return median(ratios);
}

export interface ThroughputSummary {
  target: string;
  senders: number;
  perSecond: number;
  p50: number;
  p99: number;
  vsBare: number;
  vsProbot: number;
  okShare: number;
}

export function summariseThroughput(results: Results): ThroughputSummary[] {
  const rows: ThroughputSummary[] = [];
  for (const { id } of results.targets) {
    for (const senders of [...new Set(results.throughput.map((c) => c.senders))]) {
      const cells = results.throughput.filter((c) => c.target === id && c.senders === senders);
      if (cells.length === 0) continue;
      const total = cells.reduce((n, c) => n + c.total, 0);
      rows.push({
        target: id,
        senders,
        perSecond: median(cells.map((c) => c.perSecond)),
        p50: median(cells.map((c) => c.p50)),
        p99: median(cells.map((c) => c.p99)),
        vsBare: ratio(results.throughput, id, "bare", senders),
        vsProbot: ratio(results.throughput, id, "probot", senders),
        okShare: total > 0 ? cells.reduce((n, c) => n + c.ok2xx, 0) / total : 0,
      });
    }
  }
  return rows;
}

export interface FloodSummary {
  target: string;
  rejectsPerSecond: number;
  vsBare: number;
  /** Median RSS of the settled server just before the flood. */
  rssBefore: number;
  /** Largest RSS sampled during the flood. */
  peakRss: number;
  /** VmHWM: the largest RSS since the process started (includes start-up). */
  startupHwm: number;
  bytesPerReject: number;
  accepted: number;
}

export function summariseFlood(results: Results): FloodSummary[] {
  const targets = [...new Set(results.flood.map((c) => c.target))];
  return targets.map((target) => {
    const cells = results.flood.filter((c) => c.target === target);
    const ratios = cells.flatMap((c) => {
      const b = results.flood.find((f) => f.target === "bare" && f.round === c.round);
      return b && b.rejectsPerSecond > 0 ? [c.rejectsPerSecond / b.rejectsPerSecond] : [];
    });
    return {
      target,
      rejectsPerSecond: median(cells.map((c) => c.rejectsPerSecond)),
      vsBare: median(ratios),
      rssBefore: median(cells.map((c) => c.rssBefore)),
      peakRss: Math.max(...cells.map((c) => c.maxRss)),
      startupHwm: Math.max(...cells.map((c) => c.peakHwm)),
      bytesPerReject: median(cells.map((c) => c.bytesPerReject)),
      accepted: cells.reduce((n, c) => n + c.accepted, 0),
    };
  });
}

interface TargetCheck {
  target: string;
  figure: string;
  met: boolean | undefined;
}

function checks(results: Results, t: ThroughputSummary[], f: FloodSummary[]): TargetCheck[] {
  const row = (id: string, senders: number) => t.find((r) => r.target === id && r.senders === senders);
  const nomatch10 = row("deploy-bot:nomatch", 10);
  const nomatch100 = row("deploy-bot:nomatch", 100);
  const match10 = row("deploy-bot:match", 10);
  const flood = f.find((r) => r.target === "deploy-bot");
  const idle = results.idleRss["deploy-bot"];
  const out: TargetCheck[] = [];
  const add = (
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    show: (v: number) => string,
  ) =>
    out.push({
      target,
      figure: value === undefined || !Number.isFinite(value) ? "not measured" : show(value),
      met: value === undefined || !Number.isFinite(value) ? undefined : ok(value),
    });
  add("Non-matching ≥ 1.0× empty Probot (10 senders)", nomatch10?.vsProbot, (v) => v >= 1, x);
  add("Non-matching p99 at 100 senders ≤ 50 ms", nomatch100?.p99, (v) => v <= 50, ms);
  add("Matching ≥ 0.5× empty Probot (10 senders)", match10?.vsProbot, (v) => v >= 0.5, x);
  add("Flood ≥ 0.8× bare rejects/s", flood?.vsBare, (v) => v >= 0.8, x);
  add("Flood RSS flat, peak ≤ 150 MB", flood?.peakRss, (v) => v <= 150 * MB, mb);
  add(
    "Flood RSS flat: growth during the flood ≤ 20 MB",
    flood ? flood.peakRss - flood.rssBefore : undefined,
    (v) => v <= 20 * MB,
    mb,
  );
  add(
    "Flood ≤ 200 bytes logged per rejection",
    flood?.bytesPerReject,
    (v) => v <= 200,
    (v) => `${v.toFixed(1)} B`,
  );
  add("Idle RSS of the embedded server ≤ 250 MB", idle, (v) => v <= 250 * MB, mb);
  return out;
}

const label = (results: Results, id: string) => results.targets.find((t) => t.id === id)?.label ?? id;

/** Renders bench/RESULTS.md: machine, headline ratios, absolute figures, targets, the other benches. */
export function renderResults(results: Results): string {
  const t = summariseThroughput(results);
  const f = summariseFlood(results);
  const m = results.machine;
  const lines: string[] = [];
  lines.push("# deploy-bot benchmark results", "");
  lines.push(
    `Generated by \`npm run bench\` on ${results.date.slice(0, 10)}${results.quick ? " — **BENCH_QUICK smoke run, not representative**" : ""}.`,
    "",
    `- Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.kernel}; Node ${m.node}.`,
    `- Each server is a child process pinned with \`${results.pinning.server || "(no taskset)"}\`; autocannon runs in a child pinned with \`${results.pinning.load || "(no taskset)"}\`.`,
    `- ${results.rounds} round(s) of ${results.secondsPerCell} s per cell, servers interleaved (order rotated each round); figures are medians over rounds; ratios are taken per round against the baseline measured in the same round, then the median.`,
    "- Payload: the 7.6 KB signed `push` to `refs/heads/master` from `@octokit/webhooks-examples`, a unique `X-GitHub-Delivery` per request. Non-matching: the same push to `refs/heads/not-configured`.",
    `- deploy-bot was run as: **${results.deployBot}** (config \`bench/bench.config.yaml\`, fresh \`DATA_DIR\`; a fresh process per matching cell so queued runs never pile up across cells).`,
    "",
  );

  lines.push("## Acknowledged deliveries", "");
  lines.push("| server | senders | deliveries/s | p50 | p99 | × bare | × empty Probot | 2xx |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of t) {
    lines.push(
      `| ${label(results, r.target)} | ${r.senders} | ${int(r.perSecond)} | ${ms(r.p50)} | ${ms(r.p99)} | ${x(r.vsBare)} | ${x(r.vsProbot)} | ${(r.okShare * 100).toFixed(0)}% |`,
    );
  }
  lines.push("");

  lines.push(`## Bad-signature flood (${results.floodSenders} senders, fresh server per round)`, "");
  lines.push(
    "| server | rejects/s | × bare | RSS before | peak RSS in flood | high-water mark since start | bytes logged per reject | wrongly accepted |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of f) {
    lines.push(
      `| ${r.target} | ${int(r.rejectsPerSecond)} | ${x(r.vsBare)} | ${mb(r.rssBefore)} | ${mb(r.peakRss)} | ${mb(r.startupHwm)} | ${r.bytesPerReject.toFixed(1)} | ${r.accepted} |`,
    );
  }
  lines.push("");

  lines.push("## Idle RSS (after start-up and a settle)", "");
  lines.push("| server | RSS |", "|---|---:|");
  for (const [id, rss] of Object.entries(results.idleRss)) lines.push(`| ${id} | ${mb(rss)} |`);
  lines.push("");

  lines.push("## Targets (issue 8)", "");
  lines.push("| target | figure | met |", "|---|---:|---|");
  for (const c of checks(results, t, f)) {
    lines.push(
      `| ${c.target} | ${c.figure} | ${c.met === undefined ? "n/a" : c.met ? "met" : "**missed**"} |`,
    );
  }
  lines.push("");

  lines.push("## Other benches (bench/queue.ts, bench/checkout.ts, bench/log-capture.ts)", "");
  for (const [name, other] of Object.entries(results.others)) {
    if (other.status === "ok") {
      lines.push(`### ${name}`, "", "```json", JSON.stringify(other.figures, null, 2), "```", "");
    } else {
      lines.push(
        `### ${name}`,
        "",
        other.status === "absent" ? "Not present in this tree." : `Failed: ${other.error}`,
        "",
      );
    }
  }
  lines.push(
    `Total bench time: ${results.elapsedSeconds} s. Raw per-round figures: \`bench/results.json\`.`,
    "",
  );
  return lines.join("\n");
}
