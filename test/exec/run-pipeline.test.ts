import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/schema.ts";
import { memoryLogSink } from "../../src/exec/capture-log.ts";
import { liveGroupMembers } from "../../src/exec/process-group.ts";
import { runPipeline } from "../../src/exec/run-pipeline.ts";
import type { StepRecord } from "../../src/runs/run.ts";
import { makeTempDir, removeTempDirs } from "../helpers/git-remote.ts";

afterAll(removeTempDirs);

const pipeline = (
  steps: { name: string; run: string | string[]; timeout?: string; workdir?: string }[],
  extra: Partial<PipelineConfig> = {},
): PipelineConfig => ({
  secrets: [],
  env: {},
  steps: steps.map((s) => ({ env: {}, ...s })),
  ...extra,
});

const serverEnv = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: "/tmp",
  LANG: "C.UTF-8",
  PRIVATE_KEY: "-----BEGIN FAKE KEY-----",
  WEBHOOK_SECRET: "server-webhook-secret",
  AWS_SECRET_ACCESS_KEY: "server-aws",
};

async function run(
  p: PipelineConfig,
  extra: {
    secrets?: Record<string, string>;
    timeoutMs?: number;
    signal?: AbortSignal;
    killGraceMs?: number;
    outputDir?: string;
  } = {},
) {
  const cwd = await makeTempDir("deploy-bot-run-");
  const logs = memoryLogSink();
  const updates: (StepRecord & { environmentUrl?: string })[] = [];
  const result = await runPipeline({
    name: "test",
    pipeline: p,
    cwd,
    vars: { DEPLOYBOT_PIPELINE: "test", DEPLOYBOT_BRANCH: "feat/$(touch /nonexistent)" },
    secrets: extra.secrets ?? {},
    serverEnv,
    defaultTimeoutMs: extra.timeoutMs ?? 60_000,
    logs,
    onStep: (u) => updates.push(u),
    killGraceMs: extra.killGraceMs ?? 1000,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.outputDir ? { outputDir: extra.outputDir } : {}),
  });
  return { result, logs, updates, cwd };
}

describe("runPipeline", () => {
  it("passes when every step exits 0, with string and argv steps", async () => {
    const { result, logs } = await run(
      pipeline([
        { name: "Shell", run: "echo one | tr o O" },
        { name: "Argv", run: ["printf", "%s\\n", "$HOME; two"] },
      ]),
    );
    expect(result.state).toBe("passed");
    expect(result.detail).toBe("Passed");
    expect(result.steps.map((s) => s.state)).toEqual(["passed", "passed"]);
    expect(logs.text.get(0)).toMatch(/^\+\d+\.\d{3}s One\n$/);
    // argv is not a shell: $HOME stays literal
    expect(logs.text.get(1)).toMatch(/ \$HOME; two\n$/);
  });

  it("fails with the exit code, pipefail on, and skips later steps", async () => {
    const { result, updates } = await run(
      pipeline([
        { name: "Unit tests", run: "false | true" },
        { name: "Deploy", run: "echo never" },
      ]),
    );
    expect(result.state).toBe("failed");
    expect(result.detail).toBe("Unit tests exited with 1");
    expect(result.failedStepIndex).toBe(0);
    expect(result.steps.map((s) => s.state)).toEqual(["failed", "skipped"]);
    expect(updates.map((u) => `${u.index}:${u.state}`)).toEqual(["0:running", "0:failed", "1:skipped"]);
  });

  it("is an error, not a failure, when a step cannot start", async () => {
    const { result } = await run(pipeline([{ name: "Build", run: ["definitely-not-a-command-xyz"] }]));
    expect(result.state).toBe("error");
    expect(result.detail).toMatch(/^Build could not start: /);
  });

  it("keeps workdir inside the checkout, symlinks included", async () => {
    const cwd = await makeTempDir();
    const outside = await makeTempDir();
    await mkdir(path.join(cwd, "sub"));
    await symlink(outside, path.join(cwd, "escape"));
    for (const workdir of ["../", "escape", "/etc", "missing"]) {
      const logs = memoryLogSink();
      const result = await runPipeline({
        name: "t",
        pipeline: pipeline([{ name: "Step", run: "pwd", workdir }]),
        cwd,
        vars: {},
        secrets: {},
        serverEnv,
        defaultTimeoutMs: 10_000,
        logs,
      });
      expect(result.state, workdir).toBe("error");
    }
    const logs = memoryLogSink();
    const ok = await runPipeline({
      name: "t",
      pipeline: pipeline([{ name: "Step", run: "pwd", workdir: "sub" }]),
      cwd,
      vars: {},
      secrets: {},
      serverEnv,
      defaultTimeoutMs: 10_000,
      logs,
    });
    expect(ok.state).toBe("passed");
    expect(logs.all()).toContain(`${path.sep}sub\n`);
  });

  it("gives a step only the allow-listed environment", async () => {
    const { result, logs } = await run(
      pipeline([{ name: "Env", run: "env" }], { env: { FROM_PIPELINE: "p" }, secrets: ["DEPLOY_TOKEN"] }),
      { secrets: { DEPLOY_TOKEN: "s3cr3t-value" } },
    );
    expect(result.state).toBe("passed");
    const names = logs
      .all()
      .split("\n")
      .filter(Boolean)
      .map((line) => line.replace(/^\+\S+ /, "").split("=")[0]);
    expect(names).not.toContain("PRIVATE_KEY");
    expect(names).not.toContain("WEBHOOK_SECRET");
    expect(names).not.toContain("AWS_SECRET_ACCESS_KEY");
    const allowed = new Set([
      "PATH",
      "HOME",
      "LANG",
      "CI",
      "FROM_PIPELINE",
      "DEPLOY_TOKEN",
      "DEPLOYBOT_PIPELINE",
      "DEPLOYBOT_BRANCH",
      "PWD",
      "SHLVL",
      "_",
      "OLDPWD",
    ]);
    expect(names.filter((n) => n && !allowed.has(n))).toEqual([]);
    expect(logs.all()).toContain("DEPLOY_TOKEN=***");
    expect(logs.all()).not.toContain("s3cr3t-value");
  });

  it("passes event values as data, never as code", async () => {
    const { result, logs } = await run(
      pipeline([{ name: "Branch", run: 'echo "branch=$DEPLOYBOT_BRANCH"' }]),
    );
    expect(result.state).toBe("passed");
    expect(logs.all()).toContain("branch=feat/$(touch /nonexistent)");
  });

  it("masks a declared secret even when printed across two chunks", async () => {
    const secret = "hunter2-very-secret";
    const { logs } = await run(
      pipeline(
        [
          {
            name: "Leak",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: bash substring syntax, not a template
            run: 'printf "before %s" "${S:0:7}"; sleep 0.3; printf "%s after\\n" "${S:7}"; echo "$S$S"',
          },
        ],
        { secrets: ["S"] },
      ),
      { secrets: { S: secret } },
    );
    const text = logs.all();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("very-secret");
    expect(text).toContain("before *** after");
    expect(text).toContain("******");
  });

  it("a step timeout kills the whole process group, background children included", async () => {
    const { result, logs } = await run(
      pipeline([{ name: "Hang", run: "echo pgid=$$; sleep 300 & sleep 300", timeout: "2s" }]),
    );
    expect(result.state).toBe("timed_out");
    expect(result.detail).toBe("Timed out: Hang after 2s");
    const pgid = Number(/pgid=(\d+)/.exec(logs.all())?.[1]);
    expect(pgid).toBeGreaterThan(0);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("kills background children a step left behind after it exited", async () => {
    const { result, logs } = await run(
      pipeline([{ name: "Leaves", run: "echo pgid=$$; (trap '' TERM; sleep 300) & echo done" }]),
      { killGraceMs: 500 },
    );
    expect(result.state).toBe("passed");
    const pgid = Number(/pgid=(\d+)/.exec(logs.all())?.[1]);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("stops on the pipeline timeout", async () => {
    const { result } = await run(pipeline([{ name: "A", run: "sleep 300" }], { timeout: "1s" }));
    expect(result.state).toBe("timed_out");
    expect(result.detail).toBe("Timed out: A after 1s (pipeline timeout)");
  });

  it("cancels through the signal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { result } = await run(
      pipeline([
        { name: "A", run: "sleep 300" },
        { name: "B", run: "true" },
      ]),
      { signal: controller.signal },
    );
    expect(result.state).toBe("cancelled");
    expect(result.detail).toBe("Cancelled");
    expect(result.steps.map((s) => s.state)).toEqual(["cancelled", "skipped"]);
  });

  it("gives each step a fresh DEPLOYBOT_OUTPUT outside the checkout and takes environment_url from it", async () => {
    const outputDir = await makeTempDir("deploy-bot-output-");
    const { result, updates, logs, cwd } = await run(
      pipeline([
        {
          name: "Where",
          run: 'echo "$DEPLOYBOT_OUTPUT"; test -f "$DEPLOYBOT_OUTPUT" && test ! -s "$DEPLOYBOT_OUTPUT"',
        },
        {
          name: "Deploy",
          run: 'printf "environment_url=https://pr-7.example.com/\\r\\nother=1\\n" >> "$DEPLOYBOT_OUTPUT"',
        },
        { name: "Empty again", run: 'test ! -s "$DEPLOYBOT_OUTPUT"' },
        { name: "Hostile", run: 'echo "environment_url=javascript:alert(1)" >> "$DEPLOYBOT_OUTPUT"' },
      ]),
      { outputDir },
    );
    expect(result.state).toBe("passed");
    const where = /\+\d+\.\d{3}s (.*)\n/.exec(logs.text.get(0) ?? "")?.[1] ?? "";
    expect(path.dirname(where)).toBe(outputDir);
    expect(where.startsWith(cwd)).toBe(false);
    expect(updates.filter((u) => u.environmentUrl !== undefined)).toEqual([
      expect.objectContaining({ index: 1, state: "passed", environmentUrl: "https://pr-7.example.com/" }),
    ]);
    expect(result.environmentUrl).toBe("https://pr-7.example.com/");
    expect(logs.text.get(3)).toContain(
      "deploy-bot: DEPLOYBOT_OUTPUT: environment_url on line 1 ignored: not an http(s) URL",
    );
  });

  it("gives no DEPLOYBOT_OUTPUT without an output directory", async () => {
    const { result } = await run(
      pipeline([
        { name: "None", run: "env | grep -qv ^DEPLOYBOT_OUTPUT= && ! env | grep -q ^DEPLOYBOT_OUTPUT=" },
      ]),
    );
    expect(result.state).toBe("passed");
    expect(result.environmentUrl).toBeUndefined();
  });
});
