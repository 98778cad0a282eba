/**
 * Steps a killed bot left behind. A step runs as the leader of its own process group, so `kill -9` of the bot
 * (or the OOM killer) does not reach it. Two layers end them (README, "Storage, workers and restarts"):
 *
 * 1. At once: the group leader is started through `setpriv --pdeathsig KILL` (util-linux), so the kernel
 *    SIGKILLs it when the bot dies. In the step sandbox the leader is `unshare --kill-child`, whose death
 *    takes the PID namespace and every process in it: nothing survives. Without the sandbox only the leader
 *    dies; what it started lives on, which is what layer 2 is for.
 * 2. At the next start (and on every recovery tick): each step's group is recorded in the store with the host
 *    and boot; the worker kills the recorded groups whose run is no longer running, after checking they are
 *    still ours — same boot, and a live member of the group carries `DEPLOYBOT_RUN_ID=<that run>` in its
 *    environment (a reused group id of someone else's processes never matches).
 */
import { readFileSync } from "node:fs";
import type { Logger } from "../store/logger.ts";
import type { StepProcesses, StepProcessRow } from "../store/step-processes.ts";
import { liveGroupMembers, signalGroup } from "./process-group.ts";
import type { Command } from "./step-command.ts";
import { findOnPath } from "./step-command.ts";
import { FALLBACK_PATH } from "./step-env.ts";

/** What a run's steps are started with: a wrapper for the group leader, and where its group is recorded. */
export interface StepGuard {
  wrap(command: Command): Command;
  started(pgid: number): void;
  ended(pgid: number): void;
}

/** `setpriv --pdeathsig KILL -- <command>`, or the command itself when `setpriv` is not available. */
export function withParentDeathSignal(command: Command, setpriv: string | undefined): Command {
  if (!setpriv) return command;
  return { file: setpriv, args: ["--pdeathsig", "KILL", "--", command.file, ...command.args] };
}

export function findSetpriv(searchPath = process.env.PATH): string | undefined {
  if (process.platform !== "linux") return undefined;
  return findOnPath("setpriv", `${searchPath ?? ""}:${FALLBACK_PATH}`);
}

/** This boot of the kernel; undefined off Linux. */
export function currentBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

export type OrphanVerdict = "kill" | "gone" | "not ours" | "other boot";

/** Pure: what to do with one recorded group, from what `/proc` shows of its live members. */
export function judgeOrphan(
  row: StepProcessRow,
  bootId: string | undefined,
  members: readonly { readonly pid: number; readonly environ: readonly string[] | undefined }[],
): OrphanVerdict {
  if (bootId === undefined || row.bootId !== bootId) return "other boot";
  if (members.length === 0) return "gone";
  const marker = `DEPLOYBOT_RUN_ID=${row.runId}`;
  return members.some((member) => member.environ?.includes(marker)) ? "kill" : "not ours";
}

function environOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return undefined;
  }
}

/** Kills the leftover groups that are ours and forgets every leftover row; returns how many groups died. */
export async function killOrphanedSteps(
  store: Pick<StepProcesses, "leftovers" | "forget">,
  bootId: string | undefined,
  logger: Pick<Logger, "warn">,
): Promise<number> {
  const rows = await store.leftovers();
  let killed = 0;
  for (const row of rows) {
    const members = liveGroupMembers(row.pgid).map((pid) => ({ pid, environ: environOf(pid) }));
    const verdict = judgeOrphan(row, bootId, members);
    if (verdict === "kill") {
      signalGroup(row.pgid, "SIGKILL");
      killed += 1;
      logger.warn(
        { runId: row.runId, pgid: row.pgid, processes: members.length },
        "killed the processes a step left running when the bot died",
      );
    }
  }
  await store.forget(rows);
  return killed;
}
