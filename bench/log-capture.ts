/**
 * Log capture figures: throughput and peak RSS growth while a real step prints 200 MiB, next to a
 * baseline of the same output piped by `cat` to /dev/null (the cost of the pipe alone).
 * Run: `node bench/log-capture.ts [MiB]` → one JSON line. `main()` returns the same object.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface LogCaptureFigures {
  readonly bench: "log-capture";
  readonly mib: number;
  readonly captureMiBs: number;
  readonly captureSeconds: number;
  readonly peakRssGrowthMiB: number;
  readonly baselineCatMiBs: number;
  readonly baselineCatSeconds: number;
}

export async function main(mib = 200): Promise<LogCaptureFigures> {
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "exec", "rss-child.ts");
  const { stdout } = await execFileAsync(process.execPath, ["--expose-gc", child, String(mib)], {
    maxBuffer: 1024 * 1024,
  });
  const capture = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
  const script = `head -c ${mib * 1024 * 1024} < <(yes "$(printf 'x%.0s' $(seq 1 99))") | cat > /dev/null`;
  const started = process.hrtime.bigint();
  await execFileAsync("bash", ["-c", script]);
  const catSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    bench: "log-capture",
    mib,
    captureMiBs: round(capture.throughputMiBs),
    captureSeconds: round(capture.seconds),
    peakRssGrowthMiB: round(capture.growthMiB),
    baselineCatMiBs: round(mib / catSeconds),
    baselineCatSeconds: round(catSeconds),
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await main(Number(process.argv[2] ?? "200"))));
}
