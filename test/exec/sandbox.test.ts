/**
 * The step sandbox (`src/exec/sandbox.ts`) with real processes and real namespaces: what a sandboxed step
 * can see, and that running inside it keeps run-step's contract (exit codes, streaming, SIGTERM then a
 * grace period on timeout and cancel, nothing left running). Needs util-linux `unshare` and user
 * namespaces; where those are missing these tests fail, as the protection is missing there too.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/schema.ts";
import { type LogSink, memoryLogSink } from "../../src/exec/capture-log.ts";
import { runPipeline } from "../../src/exec/run-pipeline.ts";
import {
  findSandboxTools,
  type HiddenPath,
  namespaceSandbox,
  parseSandboxMode,
  probeSandbox,
  type StepSandbox,
  serverHiddenPaths,
  setUpStepSandbox,
} from "../../src/exec/sandbox.ts";
import { makeTempDir, removeTempDirs } from "../helpers/git-remote.ts";

afterAll(removeTempDirs);

const serverEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };

async function sandbox(hidden: readonly HiddenPath[] = []): Promise<StepSandbox> {
  const probe = await probeSandbox(hidden);
  if (!probe.ok) throw new Error(`the step sandbox is unavailable here: ${probe.reason}`);
  return probe.sandbox;
}

async function step(
  run: string | string[],
  options: {
    sandbox?: StepSandbox | undefined;
    cwd?: string;
    timeout?: string;
    killGraceMs?: number;
    signal?: AbortSignal;
    logs?: LogSink;
  } = {},
) {
  const cwd = options.cwd ?? (await makeTempDir("deploy-bot-sandbox-"));
  const logs = memoryLogSink();
  const pipeline: PipelineConfig = {
    secrets: [],
    env: {},
    steps: [{ name: "Step", run, env: {}, ...(options.timeout ? { timeout: options.timeout } : {}) }],
  };
  const startedAt = Date.now();
  const result = await runPipeline({
    name: "test",
    pipeline,
    cwd,
    vars: { DEPLOYBOT_PIPELINE: "test" },
    secrets: {},
    serverEnv,
    defaultTimeoutMs: 20_000,
    logs: options.logs ?? logs,
    killGraceMs: options.killGraceMs ?? 500,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
  });
  // Log lines without their `+1.234s ` prefix.
  const lines = logs
    .all()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.replace(/^\+\S+ /, ""));
  return { result, lines, cwd, ms: Date.now() - startedAt };
}

/** Host pids whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** Waits (at most `ms`) until no process carries `marker`; returns those still there. */
async function goneWithin(marker: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = processesWith(marker);
  }
  return left;
}

const uniqueMarker = (name: string) => `deploy-bot-${name}-${randomBytes(6).toString("hex")}`;

describe("setting up the step sandbox", () => {
  it("the probe succeeds here, once per set of hidden paths", async () => {
    const first = probeSandbox([]);
    expect(probeSandbox([])).toBe(first);
    const probe = await first;
    expect(probe.ok ? "ok" : probe.reason).toBe("ok");
    expect(findSandboxTools()).toMatchObject({ unshare: expect.stringMatching(/\/unshare$/) });
  });

  it("auto falls back with a warning when the probe fails, required refuses, off never probes", async () => {
    // A directory entry that is a file: the tmpfs cannot be mounted, so the probe fails for real.
    const file = path.join(await makeTempDir(), "not-a-directory");
    await writeFile(file, "x");
    const broken: HiddenPath[] = [{ path: file, kind: "dir" }];

    const auto = await setUpStepSandbox("auto", broken);
    expect(auto.ok).toBe(true);
    if (!auto.ok) return;
    expect(auto.sandbox).toBeUndefined();
    expect(auto.unavailable).toContain(`could not hide ${file}`);
    expect(auto.warning).toContain("a step can read this process's environment through /proc");
    expect(auto.warning).toContain("PRIVATE_KEY");

    const required = await setUpStepSandbox("required", broken);
    expect(required).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^STEP_SANDBOX=required but the step sandbox is unavailable: .*could not hide/,
      ),
    });

    expect(await setUpStepSandbox("off", broken)).toEqual({ ok: true, sandbox: undefined });
    const works = await setUpStepSandbox("required", []);
    expect(works.ok && works.sandbox).toBeTruthy();
  });

  it("reads STEP_SANDBOX: auto by default, invalid values refused", () => {
    expect(parseSandboxMode(undefined)).toBe("auto");
    expect(parseSandboxMode("")).toBe("auto");
    expect(parseSandboxMode("required")).toBe("required");
    expect(parseSandboxMode("off")).toBe("off");
    expect(parseSandboxMode("yes")).toBeUndefined();
  });

  it("the server hides DATA_DIR/db, the key file and .env, never the workspaces", () => {
    expect(
      serverHiddenPaths({ dataDir: "/srv/data", privateKeyPath: "key.pem", envFile: "/app/.env" }),
    ).toEqual([
      { path: "/srv/data/db", kind: "dir" },
      { path: path.resolve("key.pem"), kind: "file" },
      { path: "/app/.env", kind: "file" },
    ]);
    expect(serverHiddenPaths({ dataDir: "/srv/data" })).toEqual([{ path: "/srv/data/db", kind: "dir" }]);
  });
});

describe("a sandboxed step", () => {
  it("sees only its own processes: a new PID namespace with its own /proc", async () => {
    const { result, lines } = await step(
      "echo ppid=$PPID; echo pids=$(ls /proc | grep '^[0-9]' | tr '\\n' ' '); cat /proc/1/environ || echo no-environ",
      { sandbox: await sandbox() },
    );
    expect(result.state).toBe("passed");
    expect(lines).toContain("ppid=1");
    const pids = (lines.find((line) => line.startsWith("pids="))?.slice(5) ?? "")
      .trim()
      .split(" ")
      .map(Number);
    // init, the step's shell, its subshell, ls, grep, tr — nothing of the bot, npm or anything else here.
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.length).toBeLessThanOrEqual(8);
    expect(pids.every((pid) => pid < 50)).toBe(true);
    expect(lines).toContain("no-environ");
  });

  it("cannot read the bot's environment through /proc/$PPID/environ or any other /proc/<pid>/environ", async () => {
    const marker = uniqueMarker("bot-env");
    const readAll =
      "echo ppid=$PPID; tr '\\0' '\\n' < /proc/$PPID/environ || true; " +
      "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\" || true; done";
    const bot = async (mode: "auto" | "off") => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [fileURLToPath(new URL("./sandboxed-bot.ts", import.meta.url)), readAll],
        {
          cwd: await makeTempDir(),
          env: { PATH: serverEnv.PATH, HOME: "/tmp", BOT_ONLY_SECRET: marker, STEP_SANDBOX: mode },
          timeout: 20_000,
        },
      );
      return JSON.parse(stdout) as { state: string; log: string; pid: number; sandboxed: boolean };
    };

    const sandboxed = await bot("auto");
    expect(sandboxed.sandboxed).toBe(true);
    expect(sandboxed.state).toBe("passed");
    expect(sandboxed.log).toContain("ppid=1\n");
    expect(sandboxed.log).not.toContain(marker);

    // The same step without the sandbox: its parent is the bot, whose environment it reads.
    const open = await bot("off");
    expect(open.sandboxed).toBe(false);
    expect(open.log).toContain(`ppid=${open.pid}\n`);
    expect(open.log).toContain(`BOT_ONLY_SECRET=${marker}`);
  });

  it("runs as the bot's own uid and gid", async () => {
    const { result, lines } = await step("echo uid=$(id -u) gid=$(id -g)", { sandbox: await sandbox() });
    expect(result.state).toBe("passed");
    expect(lines).toEqual([`uid=${process.getuid?.()} gid=${process.getgid?.()}`]);
  });

  it("hides the key file, .env and the database directory; the checkout stays readable and writable", async () => {
    const dataDir = await makeTempDir("deploy-bot-data-");
    const checkout = path.join(dataDir, "workspaces", "runs", "abc123");
    await mkdir(path.join(dataDir, "db"), { recursive: true });
    await mkdir(checkout, { recursive: true });
    await writeFile(path.join(dataDir, "db", "PG_VERSION"), "17\n");
    await writeFile(path.join(dataDir, "app.pem"), "KEY-FILE-CONTENT\n");
    await writeFile(path.join(dataDir, ".env"), "ENV-FILE-CONTENT\n");
    await writeFile(path.join(checkout, "README.md"), "CHECKOUT-CONTENT\n");
    const hidden = serverHiddenPaths({
      dataDir,
      privateKeyPath: path.join(dataDir, "app.pem"),
      envFile: path.join(dataDir, ".env"),
    });

    const { result, lines } = await step(
      [
        "sh",
        "-c",
        'cat "$1/app.pem" "$1/.env"; echo "db=[$(ls -A "$1/db")]"; cat README.md; echo written > out.txt; ' +
          'touch "$1/db/new" 2>/dev/null || echo db-read-only',
        "step",
        dataDir,
      ],
      { sandbox: await sandbox(hidden), cwd: checkout },
    );
    expect(result.state).toBe("passed");
    expect(lines).toEqual(["db=[]", "CHECKOUT-CONTENT", "db-read-only"]);
    expect(await readFile(path.join(checkout, "out.txt"), "utf8")).toBe("written\n");
    // Outside the step nothing changed.
    expect(await readFile(path.join(dataDir, "app.pem"), "utf8")).toBe("KEY-FILE-CONTENT\n");
    expect(readdirSync(path.join(dataDir, "db"))).toEqual(["PG_VERSION"]);
  });

  it("cannot undo the hiding: no unmount, not even from a user namespace of its own", async () => {
    const dataDir = await makeTempDir("deploy-bot-data-");
    await mkdir(path.join(dataDir, "db"));
    await writeFile(path.join(dataDir, "db", "PG_VERSION"), "17\n");
    await writeFile(path.join(dataDir, "app.pem"), "KEY-FILE-CONTENT\n");
    const hidden = serverHiddenPaths({ dataDir, privateKeyPath: path.join(dataDir, "app.pem") });
    const script =
      'umount "$1/db"; umount "$1/app.pem"; umount /proc; ' +
      'unshare --user --map-root-user --mount sh -c \'umount "$1/db"; umount -l "$1/app.pem"; ls -A "$1/db"; cat "$1/app.pem"\' inner "$1"; ' +
      'ls -A "$1/db"; cat "$1/app.pem"; echo pids=$(ls /proc | grep -c "^[0-9]"); echo end';
    const { result, lines } = await step(["sh", "-c", `{ ${script}; } 2>/dev/null`, "step", dataDir], {
      sandbox: await sandbox(hidden),
    });
    expect(result.state).toBe("passed");
    expect(lines.join("\n")).not.toContain("PG_VERSION");
    expect(lines.join("\n")).not.toContain("KEY-FILE-CONTENT");
    expect(lines.at(-1)).toBe("end");
    expect(Number(lines.find((line) => line.startsWith("pids="))?.slice(5))).toBeLessThan(8);
  });

  it.each([
    ["exit 0", "passed", 0],
    ["exit 3", "failed", 3],
    ["exit 125", "failed", 125],
    ["exit 255", "failed", 255],
  ])("passes the exit code through: %s", async (run, state, code) => {
    const { result } = await step(run, { sandbox: await sandbox() });
    expect(result.state).toBe(state);
    expect(result.steps[0]?.exitCode).toBe(code);
    if (code !== 0) expect(result.detail).toBe(`Step exited with ${code}`);
  });

  it("a program that does not exist is an error, not a failure, as without the sandbox", async () => {
    const { result } = await step(["definitely-not-a-command-xyz"], { sandbox: await sandbox() });
    expect(result.state).toBe("error");
    expect(result.detail).toBe("Step could not start: spawn definitely-not-a-command-xyz ENOENT");
  });

  it("a sandbox that cannot be set up is an error, not a failure, and says why in the log", async () => {
    const tools = findSandboxTools();
    if (typeof tools === "string") throw new Error(tools);
    const file = path.join(await makeTempDir(), "not-a-directory");
    await writeFile(file, "x");
    const broken = namespaceSandbox(tools, [{ path: file, kind: "dir" }]);
    const { result, lines } = await step("echo must-not-run", { sandbox: broken });
    expect(result.state).toBe("error");
    expect(result.detail).toMatch(/^Step could not start: the step sandbox did not start \(exit code 125/);
    expect(lines).toContain(`deploy-bot: the step sandbox could not hide ${file}`);
    expect(lines).not.toContain("must-not-run");
  });

  it("streams output while the step runs", async () => {
    const chunks: { at: number; text: string }[] = [];
    const sink: LogSink = { write: (_index, text) => chunks.push({ at: Date.now(), text }), end: () => {} };
    const { result } = await step("echo first; sleep 1.5; echo second", {
      sandbox: await sandbox(),
      logs: sink,
    });
    expect(result.state).toBe("passed");
    const first = chunks.find((chunk) => chunk.text.includes("first"));
    const second = chunks.find((chunk) => chunk.text.includes("second"));
    expect(first && second && second.at - first.at).toBeGreaterThan(1000);
  });

  it("on timeout the step gets SIGTERM first, once, and finishes in its grace period", async () => {
    const { result, lines, ms } = await step(
      "trap 'echo got TERM; sleep 0.2; echo cleaned up; exit 0' TERM; echo ready; sleep 300 & wait",
      { sandbox: await sandbox(), timeout: "1s", killGraceMs: 8000 },
    );
    expect(result.state).toBe("timed_out");
    expect(result.detail).toBe("Timed out: Step after 1s");
    expect(lines.filter((line) => line === "got TERM")).toHaveLength(1);
    expect(lines).toContain("cleaned up");
    expect(ms).toBeLessThan(6000); // no wait for the 8 s grace period: SIGKILL was not needed
  });

  it("a step's main process without a handler still dies from SIGTERM: it is not the namespace's PID 1", async () => {
    // PID 1 of a namespace ignores signals it has no handler for; were the step PID 1, this would take
    // the whole 8 s grace period and a SIGKILL.
    const { result, ms } = await step(["sleep", "300"], {
      sandbox: await sandbox(),
      timeout: "1s",
      killGraceMs: 8000,
    });
    expect(result.state).toBe("timed_out");
    expect(ms).toBeLessThan(6000);
  });

  it("a step that ignores SIGTERM is killed when the grace period ends", async () => {
    const marker = uniqueMarker("ignores-term");
    const { result, ms } = await step(["sh", "-c", "trap '' TERM; sleep 300; :", marker], {
      sandbox: await sandbox(),
      timeout: "1s",
      killGraceMs: 500,
    });
    expect(result.state).toBe("timed_out");
    expect(ms).toBeLessThan(5000);
    expect(await goneWithin(marker, 2000)).toEqual([]);
  });

  it("cancelling sends the step SIGTERM", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 700);
    const { result, lines } = await step("trap 'echo got TERM; exit 0' TERM; sleep 300 & wait", {
      sandbox: await sandbox(),
      signal: controller.signal,
      killGraceMs: 5000,
    });
    expect(result.state).toBe("cancelled");
    expect(lines).toContain("got TERM");
  });

  it("processes the step left running get SIGTERM and a note; those ignoring it do not outlive the step", async () => {
    const marker = uniqueMarker("leftover");
    const { result, lines, ms } = await step(
      "(trap 'echo background got TERM; exit 0' TERM; sleep 300 & wait) & " +
        `sh -c "trap '' TERM; sleep 300; :" ${marker} & sleep 0.5; echo done`,
      { sandbox: await sandbox(), killGraceMs: 500 },
    );
    expect(result.state).toBe("passed");
    expect(lines).toContain("done");
    expect(lines).toContain("deploy-bot: stopping processes the step left running");
    expect(lines).toContain("background got TERM");
    expect(ms).toBeLessThan(5000);
    expect(await goneWithin(marker, 2000)).toEqual([]);
  });

  it("`setsid` cannot outlive the step any more (it does without the sandbox)", async () => {
    // Its output goes elsewhere: without the sandbox, an escapee holding the step's pipes keeps it running.
    // The pause lets it leave the process group before the step ends.
    const escaping = (marker: string) =>
      `setsid sh -c "trap '' TERM; sleep 300; :" ${marker} >/dev/null 2>&1 & sleep 0.3; echo escaped`;
    const inside = uniqueMarker("setsid");
    const sandboxed = await step(escaping(inside), { sandbox: await sandbox() });
    expect(sandboxed.result.state).toBe("passed");
    expect(sandboxed.lines).toContain("escaped");
    expect(await goneWithin(inside, 2000)).toEqual([]);

    // The documented limit of process groups alone (process-group.ts): the same step escapes without it.
    const outside = uniqueMarker("setsid-off");
    const plain = await step(escaping(outside), { sandbox: undefined });
    expect(plain.result.state).toBe("passed");
    const survivors = await goneWithin(outside, 300);
    for (const pid of survivors) process.kill(pid, "SIGKILL");
    expect(survivors.length).toBeGreaterThan(0);
  });
});

describe("STEP_SANDBOX=off", () => {
  it("runs the step as a plain child of the bot, without unshare", async () => {
    const setup = await setUpStepSandbox("off", []);
    expect(setup).toEqual({ ok: true, sandbox: undefined });
    const { result, lines } = await step("echo ppid=$PPID; echo pids=$(ls /proc | grep -c '^[0-9]')", {
      sandbox: setup.ok ? setup.sandbox : undefined,
    });
    expect(result.state).toBe("passed");
    expect(lines).toContain(`ppid=${process.pid}`);
    expect(Number(lines.find((line) => line.startsWith("pids="))?.slice(5))).toBeGreaterThan(6);
  });
});
