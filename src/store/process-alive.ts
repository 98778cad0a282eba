/** Whether a process on this host is alive: the side effect the dead-worker rule is given. */

/** `kill(pid, 0)` probes without signalling; EPERM means the process exists but is not ours. */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
