/**
 * Load generator child: `node bench/load.ts '<json LoadSpec>'` prints one JSON `LoadResult` line.
 * Run by `run.ts` pinned to the other CPU than the server, so the two do not compete for one core.
 */
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Base64 of the exact body bytes. */
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Responses per second over the run (any status). */
  perSecond: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  total: number;
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = Buffer.from(spec.body, "base64");
  let seq = 0;
  const prefix = `bench-${process.pid}-${Date.now()}`;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        method: "POST",
        headers: spec.headers,
        body,
        timeout: 30,
        requests: [
          {
            // A unique X-GitHub-Delivery per request, as GitHub sends (deploy-bot deduplicates on it).
            setupRequest: (req) => {
              req.headers = { ...req.headers, "x-github-delivery": `${prefix}-${seq++}` };
              return req;
            },
          },
        ],
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const total = result.requests.total;
        resolve({
          perSecond: total / result.duration,
          ok2xx: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          p50: result.latency.p50,
          p99: result.latency.p99,
          total,
        });
      },
    );
  });
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  const result = await runLoad(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
