import { writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runCommand } from "../../src/cli/run.ts";
import { createRepo, removeTempDirs } from "../helpers/git-remote.ts";

afterAll(removeTempDirs);

const CONFIG = `version: 1
pipelines:
  test:
    steps:
      - name: Show
        run: echo "sha=$DEPLOYBOT_SHA branch=$DEPLOYBOT_BRANCH event=$DEPLOYBOT_EVENT leak=\${SERVER_ONLY:-none}"
      - name: Secret
        run: [sh, -c, 'echo "token=$DEPLOY_TOKEN"']
  broken:
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: Fails
        run: exit 3
      - name: Never
        run: echo never
  parent:
    steps:
      - name: Parent
        run: echo "ppid=$PPID"
  preview:
    environment: preview
    steps:
      - name: Deploy
        run: echo "environment_url=https://preview.example.com/" >> "$DEPLOYBOT_OUTPUT"
`;

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const work = await createRepo();
  await writeFile(
    path.join(work.dir, "deploy.config.yaml"),
    CONFIG.replace("  test:\n", "  test:\n    secrets: [DEPLOY_TOKEN]\n"),
  );
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (c) => out.push(String(c)));
  stderr.on("data", (c) => err.push(String(c)));
  const code = await runCommand(argv, {
    stdout,
    stderr,
    env: { PATH: process.env.PATH, HOME: "/tmp", SERVER_ONLY: "x", DEPLOY_TOKEN: "tok-123456", ...env },
    cwd: work.dir,
  });
  return { code, out: out.join(""), err: err.join(""), sha: await work.head() };
}

describe("deploy-bot run", () => {
  it("gives steps a DEPLOYBOT_OUTPUT outside the checkout and prints the environment URL", async () => {
    const { code, out } = await cli(["preview"]);
    expect(code).toBe(0);
    expect(out).toContain("Environment URL: https://preview.example.com/\n");
  });

  it("runs a pipeline against the local checkout with the step environment contract and masking", async () => {
    const { code, out, err, sha } = await cli(["test"]);
    expect(code).toBe(0);
    expect(err).toContain("▶ [1/2] Show");
    expect(err).toContain("▶ [2/2] Secret");
    expect(out).toContain(`sha=${sha} branch=main event=local leak=none`);
    expect(out).toContain("token=***");
    expect(out).not.toContain("tok-123456");
    expect(out).toMatch(/step\s+state\s+duration\nShow\s+passed\s+\S+\nSecret\s+passed/);
  });

  it("passes the calling environment through only with --env-from-server", async () => {
    const { code, out } = await cli(["test", "--env-from-server"]);
    expect(code).toBe(0);
    expect(out).toContain("leak=x");
  });

  it("exits 1 when the pipeline fails and shows skipped steps", async () => {
    const { code, out } = await cli(["broken"]);
    expect(code).toBe(1);
    expect(out).toMatch(/Fails\s+failed/);
    expect(out).toMatch(/Never\s+skipped/);
    expect(out).toContain("Fails exited with 3");
  });

  it("runs steps in the step sandbox like the server, following STEP_SANDBOX", async () => {
    const sandboxed = await cli(["parent"]);
    expect(sandboxed.code).toBe(0);
    expect(sandboxed.out).toContain(" ppid=1\n"); // PID 1 of the step's own namespace is the sandbox's init
    expect(sandboxed.err).not.toContain("warning");

    const off = await cli(["parent"], { STEP_SANDBOX: "off" });
    expect(off.code).toBe(0);
    expect(off.out).toContain(` ppid=${process.pid}\n`); // without it, the step's parent is this process

    const bogus = await cli(["parent"], { STEP_SANDBOX: "sometimes" });
    expect(bogus.code).toBe(2);
    expect(bogus.err).toContain('STEP_SANDBOX: auto, required or off, not "sometimes"');
  });

  it("exits 2 on usage and config errors", async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(["nope"])).code).toBe(2);
    expect((await cli(["test", "--config", "missing.yaml"])).code).toBe(2);
    expect((await cli(["test", "--bogus"])).code).toBe(2);
  });
});
