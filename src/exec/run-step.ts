/**
 * Runs one step's process in its own process group, streaming its output into a log capture; with a
 * sandbox (see `sandbox.ts`), inside fresh namespaces.
 */
import { execa } from "execa";
import type { LogCapture } from "./capture-log.ts";
import type { StepGuard } from "./kill-orphans.ts";
import { liveGroupMembers, signalGroup, terminateGroup } from "./process-group.ts";
import {
  commandStartError,
  readSandboxReports,
  SANDBOX_REPORT_FD,
  type SandboxReport,
  type StepSandbox,
} from "./sandbox.ts";
import type { Command } from "./step-command.ts";

/** How one process ended. `error` means it never ran (the bot's or the config's problem, not the code's). */
export type StepOutcome =
  | { kind: "exited"; exitCode: number }
  | { kind: "signalled"; signal: string }
  | { kind: "timed_out" }
  | { kind: "cancelled" }
  | { kind: "error"; message: string };

export interface RunStepOptions {
  readonly command: Command;
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly killGraceMs: number;
  readonly capture: LogCapture;
  /** Runs the step inside this sandbox; without one, as a plain child process of the bot. */
  readonly sandbox?: StepSandbox;
  /** Wraps the group leader (parent-death signal) and records its group while it runs (`kill-orphans.ts`). */
  readonly guard?: StepGuard | undefined;
}

const LEFTOVERS_NOTE = "deploy-bot: stopping processes the step left running";
/** After the sandbox reports the step's exit, how long past the grace period init may take to finish. */
const SANDBOX_BACKSTOP_MS = 10_000;

/**
 * Starts the process, waits for it, and always leaves its process group empty: on timeout or cancel it
 * sends SIGTERM, waits `killGraceMs`, then SIGKILL; after a normal exit, anything the step left in the
 * background gets the same treatment (otherwise it would hold the output pipes open and outlive the run).
 * In the sandbox, init does that inside the namespace and the kernel ends whatever is left with it.
 */
export async function runStep(options: RunStepOptions): Promise<StepOutcome> {
  const { capture, sandbox } = options;
  if (options.signal?.aborted) return { kind: "cancelled" };
  if (sandbox) {
    const cannotStart = commandStartError(options.command, options.env, options.cwd);
    if (cannotStart) return { kind: "error", message: cannotStart };
  }
  const inner = sandbox
    ? sandbox.wrap(options.command, { killGraceMs: options.killGraceMs })
    : options.command;
  const command = options.guard ? options.guard.wrap(inner) : inner;
  const child = execa(command.file, [...command.args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdio: sandbox ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  const pgid = child.pid;
  if (pgid !== undefined) options.guard?.started(pgid);
  child.stdout?.on("data", (chunk: Buffer) => capture.stdout.write(chunk));
  child.stderr?.on("data", (chunk: Buffer) => capture.stderr.write(chunk));

  let stopReason: "timed_out" | "cancelled" | undefined;
  let stopping: Promise<unknown> = Promise.resolve();
  const stop = (reason: "timed_out" | "cancelled"): void => {
    if (stopReason || pgid === undefined) return;
    stopReason = reason;
    capture.note(
      reason === "timed_out" ? "deploy-bot: step timed out, stopping it" : "deploy-bot: cancelled",
    );
    stopping = terminateGroup(pgid, options.killGraceMs);
  };
  const timer = setTimeout(() => stop("timed_out"), Math.max(0, options.timeoutMs));
  const onAbort = () => stop("cancelled");
  options.signal?.addEventListener("abort", onAbort, { once: true });

  // In the sandbox, the bot's child is `unshare`, which lives until init has dealt with leftovers; init
  // says when the step itself started and exited. The step's own exit ends its time limit, as below.
  let started = !sandbox;
  let backstop: NodeJS.Timeout | undefined;
  const reports = child.stdio[SANDBOX_REPORT_FD];
  if (sandbox && reports) {
    readSandboxReports(reports, (report: SandboxReport) => {
      if (report === "started") started = true;
      else if (report === "leftovers") capture.note(LEFTOVERS_NOTE);
      else if (report === "exited" && !backstop) {
        clearTimeout(timer);
        backstop = setTimeout(() => {
          if (pgid !== undefined) signalGroup(pgid, "SIGKILL");
        }, options.killGraceMs + SANDBOX_BACKSTOP_MS);
      }
    });
  }

  let leftovers: Promise<unknown> = Promise.resolve();
  child.nodeChildProcess.on("exit", () => {
    clearTimeout(timer);
    clearTimeout(backstop);
    if (pgid !== undefined && !stopReason && liveGroupMembers(pgid).length > 0) {
      capture.note(LEFTOVERS_NOTE);
      leftovers = terminateGroup(pgid, options.killGraceMs);
    }
  });

  try {
    const result = await child;
    await stopping;
    await leftovers;
    if (stopReason) return { kind: stopReason };
    if (!started) {
      const how =
        result.exitCode !== undefined
          ? `exit code ${result.exitCode}`
          : (result.signal ?? result.originalMessage ?? "it did not run");
      return { kind: "error", message: `the step sandbox did not start (${how}; see the step's log)` };
    }
    if (result.exitCode !== undefined) return { kind: "exited", exitCode: result.exitCode };
    if (result.signal) return { kind: "signalled", signal: result.signal };
    return {
      kind: "error",
      message: result.originalMessage ?? result.shortMessage ?? "the process did not start",
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(backstop);
    options.signal?.removeEventListener("abort", onAbort);
    // Belt and braces: whatever happened above, nothing of this step survives it.
    if (pgid !== undefined && liveGroupMembers(pgid).length > 0) await terminateGroup(pgid, 0);
    if (pgid !== undefined) options.guard?.ended(pgid);
  }
}
