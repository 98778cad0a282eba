/**
 * Child process for the bounded-memory test and the log-capture bench: runs a real pipeline whose step
 * prints `MIB` MiB, with a sink that only counts, and prints one JSON line with the RSS figures.
 * Run: `node test/exec/rss-child.ts <MiB>`.
 */
import { tmpdir } from "node:os";
import { runPipeline } from "../../src/exec/run-pipeline.ts";

const mib = Number(process.argv[2] ?? "200");
let stored = 0;
const sink = {
  write: (_i: number, text: string) => {
    stored += text.length;
  },
  end: () => {},
};
// Warm up (JIT, module loading) so the baseline is what the bot looks like when idle.
await runPipeline({
  name: "warm",
  pipeline: { secrets: [], env: {}, steps: [{ name: "warm", run: "seq 1 10000", env: {} }] },
  cwd: tmpdir(),
  vars: {},
  secrets: {},
  defaultTimeoutMs: 60_000,
  logs: sink,
});
globalThis.gc?.();
const baselineRss = process.memoryUsage.rss();
const started = process.hrtime.bigint();
const result = await runPipeline({
  name: "big",
  pipeline: {
    secrets: ["S"],
    env: {},
    steps: [
      {
        name: "Print",
        run: `head -c ${mib * 1024 * 1024} < <(yes "$(printf "x%.0s" $(seq 1 99))")`,
        env: {},
      },
    ],
  },
  cwd: tmpdir(),
  vars: {},
  secrets: { S: "some-secret-value" },
  defaultTimeoutMs: 600_000,
  logs: sink,
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const peakRss = process.resourceUsage().maxRSS * 1024;
console.log(
  JSON.stringify({
    state: result.state,
    mib,
    seconds,
    throughputMiBs: mib / seconds,
    baselineRss,
    peakRss,
    growthMiB: (peakRss - baselineRss) / 1024 / 1024,
    storedChars: stored,
  }),
);
