/** Runs one step's process in its own process group, streaming its output into a log capture. */
import { execa } from "execa";
import type { LogCapture } from "./capture-log.ts";
import { liveGroupMembers, terminateGroup } from "./process-group.ts";
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
}

/**
 * Starts the process, waits for it, and always leaves its process group empty: on timeout or cancel it
 * sends SIGTERM, waits `killGraceMs`, then SIGKILL; after a normal exit, anything the step left in the
 * background gets the same treatment (otherwise it would hold the output pipes open and outlive the run).
 */
export async function runStep(options: RunStepOptions): Promise<StepOutcome> {
  const { command, capture } = options;
  if (options.signal?.aborted) return { kind: "cancelled" };
  const child = execa(command.file, [...command.args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  const pgid = child.pid;
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
  let leftovers: Promise<unknown> = Promise.resolve();
  child.nodeChildProcess.on("exit", () => {
    clearTimeout(timer);
    if (pgid !== undefined && !stopReason && liveGroupMembers(pgid).length > 0) {
      capture.note("deploy-bot: stopping processes the step left running");
      leftovers = terminateGroup(pgid, options.killGraceMs);
    }
  });

  try {
    const result = await child;
    await stopping;
    await leftovers;
    if (stopReason) return { kind: stopReason };
    if (result.exitCode !== undefined) return { kind: "exited", exitCode: result.exitCode };
    if (result.signal) return { kind: "signalled", signal: result.signal };
    return {
      kind: "error",
      message: result.originalMessage ?? result.shortMessage ?? "the process did not start",
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // Belt and braces: whatever happened above, nothing of this step survives it.
    if (pgid !== undefined && liveGroupMembers(pgid).length > 0) await terminateGroup(pgid, 0);
  }
}
