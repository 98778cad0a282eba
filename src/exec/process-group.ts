/**
 * Process groups: every step runs as the leader of its own group (`detached: true`), so the bot can stop
 * the step *and* whatever it left running in the background with one signal to `-pgid`.
 *
 * Limits: a process that calls `setsid()` (daemonises) leaves the group and escapes; the step sandbox
 * (`sandbox.ts`, a PID namespace per step) contains those, this module alone does not.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Sends `signal` to the whole group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Live (non-zombie) pids in a process group, read from `/proc`. Zombies are left out on purpose: in a
 * container whose PID 1 does not reap orphans they linger forever but run nothing. Without `/proc` this
 * falls back to `kill(-pgid, 0)` and reports the group id itself when anything answers.
 */
export function liveGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Format: pid (comm) state ppid pgrp …; comm may contain spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && fields[0] !== "X" && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stops a group politely then firmly: SIGTERM, wait up to `graceMs` for every member to go, then SIGKILL.
 * Returns whether SIGKILL was needed. Bounded: at most `graceMs` plus one short wait after SIGKILL.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<{ killed: boolean }> {
  if (liveGroupMembers(pgid).length === 0) return { killed: false };
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (liveGroupMembers(pgid).length === 0) return { killed: false };
    await sleep(Math.min(100, Math.max(1, deadline - Date.now())));
  }
  signalGroup(pgid, "SIGKILL");
  for (let i = 0; i < 50 && liveGroupMembers(pgid).length > 0; i++) await sleep(20);
  return { killed: true };
}
