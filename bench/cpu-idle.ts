import { readFileSync } from "node:fs";

/** CPU time (user + system, in clock ticks) a process has used, from /proc; 0 if unreadable. */
function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Waits until `pid` uses under 5% of a core over half a second (at most `maxMs`): the backlog a load
 * left behind (queued runs) has been worked off. Returns the time waited.
 */
export async function waitForIdleCpu(pid: number, maxMs = 30_000): Promise<number> {
  const started = Date.now();
  let before = cpuTicks(pid);
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = cpuTicks(pid);
    // 100 ticks per second: 5% of 0.5 s is 2.5 ticks.
    if (now - before <= 2) break;
    before = now;
  }
  return Date.now() - started;
}
