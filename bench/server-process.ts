import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";

/** `taskset -c <cpu>` prefix when the tool exists and the CPU does; empty otherwise (then unpinned). */
export function pinned(cpu: number): string[] {
  const ok = spawnSync("taskset", ["-c", String(cpu), "true"]).status === 0;
  return ok ? ["taskset", "-c", String(cpu)] : [];
}

/** A free TCP port on 127.0.0.1 (listen on 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process from /proc: current (VmRSS) and peak (VmHWM), in bytes; 0 if unreadable. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Bytes the server wrote to stdout + stderr so far (its log volume). */
  outputBytes(): number;
  /** The last few KB of its output, for error reports. */
  tail(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** argv after `node`, e.g. `["bench/servers/bare.ts"]`. */
  args: string[];
  env: Record<string, string>;
  cpu: number;
  /** Wait until `GET /ping` answers 200 `PONG`; default: any HTTP answer to `/ping` will do. */
  requirePong?: boolean;
  readyTimeoutMs?: number;
}

async function answersPing(port: number, requirePong: boolean): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1000) });
    const text = await res.text();
    return requirePong ? res.status === 200 && text.trim() === "PONG" : true;
  } catch {
    return false;
  }
}

/** Starts a server as a child process pinned to `cpu`, counting its output, and waits until it answers. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const prefix = pinned(options.cpu);
  const argv = [...prefix, process.execPath, ...options.args];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let bytes = 0;
  let tail = "";
  const count = (chunk: Buffer): void => {
    bytes += chunk.length;
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", count);
  child.stderr?.on("data", count);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`${options.name} exited before it was ready:\n${tail}`);
    if (await answersPing(port, options.requirePong ?? false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} not ready after ${options.readyTimeoutMs ?? 30_000} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(50 * (i + 1), 250)));
  }
  return {
    name: options.name,
    port,
    pid: child.pid ?? 0,
    outputBytes: () => bytes,
    tail: () => tail,
    stop: async () => {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
