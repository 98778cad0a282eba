import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  currentBootId,
  findSetpriv,
  judgeOrphan,
  killOrphanedSteps,
  withParentDeathSignal,
} from "../../src/exec/kill-orphans.ts";
import { liveGroupMembers } from "../../src/exec/process-group.ts";
import { silentLogger } from "../../src/store/logger.ts";
import type { StepProcessRow } from "../../src/store/step-processes.ts";

const row: StepProcessRow = { runId: "run-1", pgid: 4242, bootId: "boot-a" };
const ours = ["PATH=/usr/bin", "DEPLOYBOT_RUN_ID=run-1"];

describe("judgeOrphan", () => {
  it.each([
    ["a live member carries the run's id", "boot-a", [{ pid: 1, environ: ours }], "kill"],
    [
      "one of several members does",
      "boot-a",
      [
        { pid: 1, environ: undefined },
        { pid: 2, environ: ours },
      ],
      "kill",
    ],
    ["no member left", "boot-a", [], "gone"],
    [
      "the group id now belongs to someone else",
      "boot-a",
      [{ pid: 1, environ: ["DEPLOYBOT_RUN_ID=run-2"] }],
      "not ours",
    ],
    [
      "a prefix is not the run's id",
      "boot-a",
      [{ pid: 1, environ: ["DEPLOYBOT_RUN_ID=run-10"] }],
      "not ours",
    ],
    ["unreadable environment (another user)", "boot-a", [{ pid: 1, environ: undefined }], "not ours"],
    ["recorded before a reboot", "boot-b", [{ pid: 1, environ: ours }], "other boot"],
    ["no boot id here", undefined, [{ pid: 1, environ: ours }], "other boot"],
  ] as const)("%s", (_, bootId, members, verdict) => {
    expect(judgeOrphan(row, bootId, members)).toBe(verdict);
  });
});

describe("withParentDeathSignal", () => {
  it("wraps the group leader in setpriv, or leaves the command alone without it", () => {
    const command = { file: "/bin/sh", args: ["-c", "echo $1", "x"] };
    expect(withParentDeathSignal(command, "/usr/bin/setpriv")).toEqual({
      file: "/usr/bin/setpriv",
      args: ["--pdeathsig", "KILL", "--", "/bin/sh", "-c", "echo $1", "x"],
    });
    expect(withParentDeathSignal(command, undefined)).toBe(command);
  });
});

describe.skipIf(process.platform !== "linux")("killOrphanedSteps", () => {
  it("kills a leftover group that is ours, leaves one that is not, forgets both", async () => {
    const start = (runId: string) =>
      spawn("/bin/sh", ["-c", "sleep 30 & sleep 31; true"], {
        detached: true,
        stdio: "ignore",
        env: { PATH: "/usr/bin:/bin", DEPLOYBOT_RUN_ID: runId },
      });
    const mine = start("run-mine");
    const stranger = start("run-stranger");
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const bootId = currentBootId();
      const rows: StepProcessRow[] = [
        { runId: "run-mine", pgid: mine.pid!, bootId: bootId! },
        // A recorded group id now used by another run's processes (a reused id): not ours to kill.
        { runId: "run-gone", pgid: stranger.pid!, bootId: bootId! },
      ];
      const forgotten: StepProcessRow[] = [];
      const killed = await killOrphanedSteps(
        { leftovers: async () => rows, forget: async (done) => void forgotten.push(...done) },
        bootId,
        silentLogger,
      );
      expect(killed).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(liveGroupMembers(mine.pid!)).toEqual([]);
      expect(liveGroupMembers(stranger.pid!).length).toBeGreaterThan(0);
      expect(forgotten).toEqual(rows);
    } finally {
      for (const child of [mine, stranger]) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      }
    }
  });

  it("finds setpriv on this machine", () => {
    expect(findSetpriv()).toMatch(/setpriv$/);
  });
});
