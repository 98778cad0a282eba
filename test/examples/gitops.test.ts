/**
 * The GitOps example stays true: both configs validate (as `npx deploy-bot validate` does), the schedules
 * tick for the manifests repository, and the drift check really fails on `kubectl diff`'s exit 1 (drift),
 * passes on 0 and errors on more — run with `deploy-bot run` against a kubectl stand-in.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import { scheduledTicks } from "../../src/runs/schedule-ticks.ts";
import { runCli } from "../cli/run-cli.ts";

const DIR = path.join(import.meta.dirname, "../../examples/gitops");

describe("examples/gitops", () => {
  it.each(["deploy.config.yaml", "deploy.config.engine.yaml"])(
    "npx deploy-bot validate %s passes",
    async (file) => {
      const result = await runCli(["validate", path.join(DIR, file)]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    },
  );

  it("schedules a drift check every 15 minutes and a nightly re-apply of acme/infra", async () => {
    const loaded = await loadConfig(path.join(DIR, "deploy.config.yaml"));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    expect(scheduledTicks(loaded.config)).toEqual([
      { rule: "drift check", repo: "acme/infra", branch: "main", cron: "*/15 * * * *" },
      { rule: "nightly re-apply", repo: "acme/infra", branch: undefined, cron: "30 2 * * *" },
    ]);
    expect(loaded.config.pipelines["deploy-production"]?.environment).toBe("production");
  });

  describe("the drift check, against a kubectl stand-in", () => {
    let bin: string;
    beforeAll(async () => {
      bin = await mkdtemp(path.join(os.tmpdir(), "deploybot-fake-kubectl-"));
      await writeFile(
        path.join(bin, "kubectl"),
        `#!/bin/sh\necho "kubectl $*"\nexit "$(cat ${JSON.stringify(path.join(bin, "exit-code"))})"\n`,
      );
      await chmod(path.join(bin, "kubectl"), 0o755);
    });
    afterAll(() => rm(bin, { recursive: true, force: true }));

    it.each([
      [0, 0, "production matches"],
      [1, 1, "DRIFT: the live state of production differs from"],
      [
        2,
        1,
        "kubectl --server=https://k8s.acme.example:6443 --token=*** diff --server-side -k manifests/production",
      ],
    ])("kubectl diff exiting %i → deploy-bot run exits %i", async (kubectlExit, exit, output) => {
      await writeFile(path.join(bin, "exit-code"), String(kubectlExit));
      const result = await runCli(
        ["run", "drift-check-production", "--dir", DIR, "--config", path.join(DIR, "deploy.config.yaml")],
        { PATH: `${bin}:${process.env.PATH}`, KUBE_TOKEN: "s3cret-token" },
      );
      expect(result.code, result.stdout + result.stderr).toBe(exit);
      expect(result.stdout).toContain(output);
      expect(result.stdout).not.toContain("s3cret-token");
    });
  });
});
