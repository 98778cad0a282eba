import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./run-cli.ts";

describe("deploy-bot validate", () => {
  it("accepts the checked-in deploy.config.yaml (default path)", async () => {
    expect(await runCli(["validate"])).toEqual({
      code: 0,
      stdout: "deploy.config.yaml: valid (3 pipelines, 3 rules)\n",
      stderr: "",
    });
  });

  it("uses $DEPLOY_CONFIG, and an explicit file over it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-validate-"));
    const file = join(dir, "ci.yaml");
    writeFileSync(file, "version: 1\npipelines:\n  t: {steps: [{name: s, run: x}]}\n");
    expect(await runCli(["validate"], { DEPLOY_CONFIG: file })).toMatchObject({
      code: 0,
      stdout: `${file}: valid (1 pipeline, 0 rules)\n`,
    });
    expect(await runCli(["validate", `${ROOT}deploy.config.yaml`], { DEPLOY_CONFIG: file })).toMatchObject({
      code: 0,
    });
  });

  it("exits 1 with file:line:col: message lines on stderr", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-validate-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      "version: 1\npipelines:\n  t:\n    steps: [{name: s, run: x, timeout: 10mins}]\nrules:\n  - name: r\n    on: {push: {brnaches: [main]}}\n    run: [t, deploy]\n",
    );
    expect(await runCli(["validate", file])).toEqual({
      code: 1,
      stdout: "",
      stderr: [
        `${file}:4:40: pipelines.t.steps[0].timeout: invalid duration "10mins": use e.g. 30s, 10m, 1h or 1h30m`,
        `${file}:7:17: unknown key "brnaches" in rules[0].on.push (did you mean "branches"?)`,
        `${file}:8:14: rules[0].run[1]: unknown pipeline "deploy" (pipelines: t)`,
        "",
      ].join("\n"),
    });
  });

  it("exits 1 for a missing file", async () => {
    expect(await runCli(["validate", "nope.yaml"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "nope.yaml:1:1: file not found\n",
    });
  });
});

describe("deploy-bot", () => {
  it("--help prints the usage with the exit codes", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toContain("plan --event <name> --payload <file.json>");
  });

  it.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [[], "missing command"],
    [["validate", "a", "b"], 'unexpected argument "b"'],
    [["validate", "--nope"], "Unknown option '--nope'"],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("Usage: deploy-bot");
  });
});
