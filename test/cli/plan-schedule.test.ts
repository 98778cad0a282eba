import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planSchedule, renderSchedulePlan } from "../../src/cli/plan-schedule.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { runCli } from "./run-cli.ts";

const CONFIG = `version: 1
pipelines:
  diff: { steps: [{ name: Diff, run: kubectl diff -f . }] }
  sync: { environment: production, steps: [{ name: Apply, run: kubectl apply -f . }] }
rules:
  - name: reconcile production
    repos: [acme/infra]
    on:
      schedule:
        - cron: '*/15 * * * *'
          branch: main
    run: [diff, sync]
  - name: nightly drift check
    repos: [acme/infra, acme/web]
    on:
      schedule:
        - cron: '0 3 * * *'
    run: [diff]
  - name: deploy main
    on: { push: { branches: [main] } }
    run: [sync]
`;
const config = (() => {
  const result = parseConfig(CONFIG, "f");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
})();
const NOW = new Date("2026-12-02T16:20:00Z");

describe("planSchedule", () => {
  it("explains every tick of a repository, exactly", () => {
    expect(
      renderSchedulePlan(planSchedule(config, "acme/infra", undefined, NOW)),
    ).toBe(`event: schedule of acme/infra

rule reconcile production: cron '*/15 * * * *' (UTC) on branch main
  next ticks: 2026-12-02T16:30:00.000Z, 2026-12-02T16:45:00.000Z, 2026-12-02T17:00:00.000Z
  at each tick, at the branch's head commit (resolved through the API), runs in order:
    1. diff
    2. sync (needs diff; environment production)
  a tick is skipped while diff or sync is still queued or running for acme/infra

rule nightly drift check: cron '0 3 * * *' (UTC) on the default branch
  next ticks: 2026-12-03T03:00:00.000Z, 2026-12-04T03:00:00.000Z, 2026-12-05T03:00:00.000Z
  at each tick, at the branch's head commit (resolved through the API), runs in order:
    1. diff
  a tick is skipped while diff is still queued or running for acme/infra

rules not ticking:
  deploy main: the rule has no schedule
`);
  });

  it.each([
    [
      "acme/web",
      undefined,
      ["nightly drift check"],
      ["reconcile production: repository acme/web is not in repos [acme/infra]"],
    ],
    [
      "ACME/Infra",
      "release",
      ["nightly drift check"],
      ["reconcile production: its schedule runs branch main, not release"],
    ],
    ["acme/infra", "main", ["reconcile production", "nightly drift check"], []],
    [
      "other/repo",
      undefined,
      [],
      ["reconcile production: repository other/repo is not in repos [acme/infra]"],
    ],
  ])("--repo %s --branch %s ticks %j", (repo, branch, rules, reasons) => {
    const plan = planSchedule(config, repo, branch, NOW);
    expect(plan.ticks.map((t) => t.rule)).toEqual(rules);
    expect(
      plan.unmatched
        .filter((u) => u.rule !== "deploy main" && u.rule !== "nightly drift check")
        .map((u) => `${u.rule}: ${u.reason}`),
    ).toEqual(reasons);
  });
});

describe("deploy-bot plan --event schedule", () => {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-plan-schedule-"));
  const file = join(dir, "deploy.config.yaml");
  writeFileSync(file, CONFIG);

  it("--json lists the pipelines a tick would run", async () => {
    const result = await runCli([
      "plan",
      "--event",
      "schedule",
      "--repo",
      "acme/infra",
      "--branch",
      "main",
      "--config",
      file,
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.pipelines).toEqual(["diff", "sync"]);
    expect(
      out.ticks.map((t: { rule: string; cron: string; branch: string | null; pipelines: string[] }) => [
        t.rule,
        t.cron,
        t.branch,
        t.pipelines,
      ]),
    ).toEqual([
      ["reconcile production", "*/15 * * * *", "main", ["diff", "sync"]],
      ["nightly drift check", "0 3 * * *", null, ["diff"]],
    ]);
    expect(out.ignored).toBeNull();
  });

  it("says why nothing would run for a repository no schedule covers", async () => {
    const result = await runCli(["plan", "--event", "schedule", "--repo", "other/repo", "--config", file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ignored: no scheduled rule ticks for other/repo\nnothing would run\n");
  });

  it.each([
    [["--repo", "acme/infra", "--payload", "x.json"], 2, "a schedule has no payload: give --repo"],
    [[], 2, "plan --event schedule needs --repo owner/name"],
    [["--repo", "../../etc/passwd"], 2, '--repo must be owner/name, got "../../etc/passwd"'],
    [["--repo", "acme/infra;rm -rf ~"], 2, "--repo must be owner/name"],
  ])("refuses %j", async (args, code, message) => {
    const result = await runCli(["plan", "--event", "schedule", ...args, "--config", file]);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
  });

  it("refuses --repo without --event schedule", async () => {
    const result = await runCli(["plan", "--event", "push", "--payload", "x.json", "--repo", "acme/infra"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--repo and --branch go with --event schedule");
  });
});
