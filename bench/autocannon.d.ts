// Minimal types for the parts of autocannon 9 the bench uses (the package ships none).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  export interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Per-request templates; `setupRequest` runs for every request built from one. */
    requests?: (AutocannonRequest & {
      setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
    })[];
  }

  export interface Histogram {
    average: number;
    mean: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
  }

  export interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    "2xx": number;
    "4xx": number;
    "5xx": number;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }

  export default function autocannon(
    opts: AutocannonOptions,
    callback: (err: Error | null, result: AutocannonResult) => void,
  ): EventEmitter;
}
