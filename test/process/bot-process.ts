/**
 * The bot as an operator runs it: `npm start` (`npm run --silent start`) in the repository root, in its own
 * process group, configured only through environment variables. Helpers to wait until it answers
 * `GET /ping`, send it signed webhooks, fetch its pages, stop it (SIGTERM) or `kill -9` the whole group,
 * and keep everything it printed for the failure message.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { sendWebhook } from "../helpers/webhooks.ts";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface BotProcess {
  readonly child: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved as received. */
  output(): string;
  stderr(): string;
  /** Resolves when the `npm` process has exited. */
  readonly exited: Promise<Exit>;
  /** SIGTERM to the group, then SIGKILL after `graceMs`; resolves with how `npm` exited. */
  stop(graceMs?: number): Promise<Exit>;
  /** `kill -9` of the whole process group (npm, the shell, node); resolves once npm is gone. */
  kill9(): Promise<Exit>;
}

export interface SpawnOptions {
  /** The bot's whole environment (besides PATH/HOME/LANG): nothing of the test process leaks in. */
  readonly env: Record<string, string>;
  /** Directories put first on PATH (default: the directory of the Node running the tests). */
  readonly pathFirst?: readonly string[];
}

/** Starts `npm run --silent start` in the repository root, detached (its own process group). */
export function spawnBot(options: SpawnOptions): BotProcess {
  if (existsSync(path.join(REPO_ROOT, ".env")))
    throw new Error(
      `${REPO_ROOT}/.env exists: the bot would read it and the process suite would not test what it says; move it away to run these tests`,
    );
  const pathFirst = options.pathFirst ?? [path.dirname(process.execPath)];
  const child = spawn("npm", ["run", "--silent", "start"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: [...pathFirst, process.env.PATH ?? "/usr/bin:/bin"].join(":"),
      HOME: process.env.HOME ?? "/tmp",
      LANG: "C",
      ...options.env,
    },
  });
  let output = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  };
  /** Waits until no process of the group is left (npm exiting first does not mean node has). */
  const groupGone = async (deadlineMs: number): Promise<boolean> => {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 0);
      } catch {
        return true;
      }
      await sleep(50);
    }
    return false;
  };
  return {
    child,
    output: () => output,
    stderr: () => stderr,
    exited,
    async stop(graceMs = 15_000) {
      if (!gone) signalGroup("SIGTERM");
      if (!(await groupGone(graceMs))) signalGroup("SIGKILL");
      await groupGone(5_000);
      return exited;
    },
    async kill9() {
      signalGroup("SIGKILL");
      await groupGone(5_000);
      return exited;
    },
  };
}

export interface RunningBot extends BotProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Signs (`X-Hub-Signature-256`) and POSTs a webhook delivery. */
  send(
    event: string,
    payload: unknown,
    deliveryId?: string,
  ): Promise<{ status: number; text: string; id: string }>;
  get(pathname: string): Promise<{ status: number; type: string; text: string }>;
}

/**
 * Starts the bot on `port` and waits (bounded) until `GET /ping` answers `PONG`; fails with the bot's output
 * if it exits or does not get ready in time.
 */
export async function startBot(
  options: SpawnOptions & {
    readonly port: number;
    readonly webhookSecret: string;
    readonly readyMs?: number;
  },
): Promise<RunningBot> {
  const bot = spawnBot(options);
  const url = `http://127.0.0.1:${options.port}`;
  const end = Date.now() + (options.readyMs ?? 30_000);
  let exit: Exit | undefined;
  void bot.exited.then((e) => {
    exit = e;
  });
  for (;;) {
    if (exit)
      throw new Error(`the bot exited (${JSON.stringify(exit)}) before it was ready:\n${bot.output()}`);
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200 && (await response.text()) === "PONG") break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) {
      await bot.kill9();
      throw new Error(`the bot was not ready within ${options.readyMs ?? 30_000} ms:\n${bot.output()}`);
    }
    await sleep(100);
  }
  return {
    ...bot,
    url,
    send: (event, payload, deliveryId) => sendWebhook(url, options.webhookSecret, event, payload, deliveryId),
    async get(pathname) {
      const response = await fetch(`${url}${pathname}`);
      return {
        status: response.status,
        type: response.headers.get("content-type") ?? "",
        text: await response.text(),
      };
    },
  };
}

/** A port that was free a moment ago (the bot needs it before it starts, for `PORT` and `PUBLIC_URL`). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Polls `check` every 100 ms until it returns a value; fails after `deadlineMs` saying what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  deadlineMs = 30_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
