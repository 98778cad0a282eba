import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { Config, ForksPolicy } from "../../src/config/schema.ts";
import type { DeployEvent } from "../../src/events/deploy-event.ts";
import type { CommandRunInput } from "../../src/runs/command-run.ts";
import { decideButton, decideRerun, decideRerunAll, forksPolicy } from "../../src/runs/rerun-decisions.ts";
import type { RunRecord, RunState } from "../../src/runs/run.ts";
import { prEvent, pushEvent, run, SHA } from "../report/fixtures.ts";

const CONFIG = `version: 1
pipelines:
  test:
    steps: [{ name: Install, run: npm ci }, { name: Unit tests, run: npm test }]
  lint:
    steps: [{ name: Lint, run: npm run lint }]
  deploy:
    environment: staging
    steps: [{ name: Deploy, run: ./deploy.sh staging }]
  deploy-production:
    environment: production
    manual: true
    deployers: [Alice, bob]
    steps: [{ name: Deploy, run: ./deploy.sh production }]
  release:
    environment: release
    manual: true
    steps: [{ name: Release, run: ./release.sh }]
  preview:
    environment: preview
    manual: true
    steps: [{ name: Preview, run: ./preview.sh }]
  docs:
    steps: [{ name: Docs, run: make docs }]
  e2e:
    steps: [{ name: E2E, run: npm run e2e }]
  orphan:
    steps: [{ name: Orphan, run: "true" }]
rules:
  - name: main
    on: { push: { branches: [main] } }
    run: [test, deploy, deploy-production, release]
  - name: prs
    forks: run
    on: { pull_request: }
    run: [test, preview]
  - name: lint-prs
    forks: run
    on: { pull_request: }
    run: [lint]
  - name: lint-pushes
    forks: run
    on: { push: }
    run: [lint]
  - name: docs-run
    forks: run
    on: { pull_request: }
    run: [docs]
  - name: docs-never
    forks: never
    on: { pull_request: }
    run: [docs]
  - name: e2e-run
    forks: run
    on: { pull_request: }
    run: [e2e]
  - name: e2e-approve
    on: { pull_request: }
    run: [e2e]
`;
const parsed = parseConfig(CONFIG, "deploy.config.yaml");
if (!parsed.ok) throw new Error(`bad test config: ${JSON.stringify(parsed)}`);
const config: Config = parsed.config;
const AT = "1a2b3c4";

/** Environment and step names of each configured pipeline, written out (not read back from the config). */
const PIPELINES: Record<string, { environment: string | null; stepNames: string[] }> = {
  test: { environment: null, stepNames: ["Install", "Unit tests"] },
  lint: { environment: null, stepNames: ["Lint"] },
  deploy: { environment: "staging", stepNames: ["Deploy"] },
  "deploy-production": { environment: "production", stepNames: ["Deploy"] },
  release: { environment: "release", stepNames: ["Release"] },
  preview: { environment: "preview", stepNames: ["Preview"] },
  docs: { environment: null, stepNames: ["Docs"] },
  e2e: { environment: null, stepNames: ["E2E"] },
};

const PUSH = pushEvent({ deliveryId: "d-push" });
const PR = prEvent({ deliveryId: "d-pr" });
const FORK_PR = prEvent({ deliveryId: "d-fork", fork: true, headRepoFullName: "octo-fork/app" });

/** A run of `pipeline` at SHA, by default of the push delivery. */
const r = (
  id: string,
  pipeline: string,
  state: RunState,
  needs: string[] = [],
  event: DeployEvent = PUSH,
): RunRecord =>
  run({
    id,
    pipeline,
    state,
    needs,
    event,
    deliveryId: event.deliveryId,
    environment: PIPELINES[pipeline]?.environment ?? null,
  });

/** The run input a re-run creates for `pipeline`, repeating run `retryOf`. */
const again = (
  pipeline: string,
  retryOf: string,
  needs: string[] = [],
  extra: Partial<CommandRunInput> = {},
): CommandRunInput => ({
  pipeline,
  environment: PIPELINES[pipeline]?.environment ?? null,
  needs,
  stepNames: PIPELINES[pipeline]?.stepNames ?? [],
  manual: false,
  retryOf,
  ...extra,
});

describe("forksPolicy", () => {
  it.each<[string, ForksPolicy]>([
    ["test", "approve"], // main (approve by default) and prs (run): the strictest
    ["lint", "run"], // every rule naming it says run
    ["preview", "run"],
    ["docs", "never"], // run, then never
    ["e2e", "approve"], // run, then approve by default
    ["deploy", "approve"], // only main, which does not say
    ["orphan", "approve"], // no rule names it
    ["gone", "approve"], // not even a pipeline
  ])("%s → %s", (pipeline, expected) => {
    expect(forksPolicy(config, pipeline)).toBe(expected);
  });

  it("takes the strictest whatever the order of the rules", () => {
    const reversed: Config = { ...config, rules: [...config.rules].reverse() };
    for (const pipeline of ["test", "lint", "docs", "e2e", "orphan"])
      expect(forksPolicy(reversed, pipeline)).toBe(forksPolicy(config, pipeline));
  });
});

describe("decideRerun", () => {
  it.each<[string, RunRecord[], string, unknown]>([
    [
      "a failed test re-runs the deploys its failure skipped, transitively",
      [
        r("1", "test", "failed"),
        r("2", "deploy", "skipped", ["test"]),
        r("3", "deploy-production", "skipped", ["deploy"]),
      ],
      "1",
      {
        groups: [
          {
            event: PUSH,
            runs: [
              again("test", "1"),
              again("deploy", "2", ["test"]),
              again("deploy-production", "3", ["deploy"], { manual: true }),
            ],
          },
        ],
        pipelines: ["test", "deploy", "deploy-production"],
      },
    ],
    [
      "not a dependent that passed on its own",
      [r("1", "test", "passed"), r("2", "deploy", "passed", ["test"])],
      "1",
      { groups: [{ event: PUSH, runs: [again("test", "1")] }], pipelines: ["test"] },
    ],
    [
      "not a dependent that failed on its own, nor what that one skipped",
      [
        r("1", "test", "passed"),
        r("2", "deploy", "failed", ["test"]),
        r("3", "deploy-production", "skipped", ["deploy"]),
      ],
      "1",
      { groups: [{ event: PUSH, runs: [again("test", "1")] }], pipelines: ["test"] },
    ],
    [
      "not a pipeline skipped because of another one",
      [r("1", "test", "failed"), r("2", "lint", "failed"), r("3", "deploy", "skipped", ["lint"])],
      "1",
      { groups: [{ event: PUSH, runs: [again("test", "1")] }], pipelines: ["test"] },
    ],
    [
      "not a skipped dependent that is no longer in the config",
      [r("1", "test", "failed"), r("2", "old-deploy", "skipped", ["test"])],
      "1",
      { groups: [{ event: PUSH, runs: [again("test", "1")] }], pipelines: ["test"] },
    ],
    [
      "a dependent's needs restricted to the pipelines that run again",
      [r("1", "lint", "passed"), r("2", "test", "failed"), r("3", "deploy", "skipped", ["lint", "test"])],
      "2",
      {
        groups: [{ event: PUSH, runs: [again("test", "2"), again("deploy", "3", ["test"])] }],
        pipelines: ["test", "deploy"],
      },
    ],
    [
      "a re-run of the dependent alone drops its needs",
      [r("1", "test", "passed"), r("2", "deploy", "failed", ["test"])],
      "2",
      { groups: [{ event: PUSH, runs: [again("deploy", "2")] }], pipelines: ["deploy"] },
    ],
    [
      "the newest run of each pipeline, even when an older check run was clicked",
      [
        r("1", "test", "failed"),
        r("2", "deploy", "skipped", ["test"]),
        r("3", "test", "failed"),
        r("4", "deploy", "skipped", ["test"]),
      ],
      "1",
      {
        groups: [{ event: PUSH, runs: [again("test", "3"), again("deploy", "4", ["test"])] }],
        pipelines: ["test", "deploy"],
      },
    ],
    [
      "a deploy cancelled or superseded runs again",
      [r("1", "test", "passed"), r("2", "deploy", "superseded", ["test"])],
      "2",
      { groups: [{ event: PUSH, runs: [again("deploy", "2")] }], pipelines: ["deploy"] },
    ],
    [
      "the clicked manual pipeline runs at once; a manual one chained behind it waits again",
      [
        r("1", "deploy", "passed"),
        r("2", "deploy-production", "failed", ["deploy"]),
        r("3", "release", "skipped", ["deploy-production"]),
      ],
      "2",
      {
        groups: [
          {
            event: PUSH,
            runs: [
              again("deploy-production", "2", [], { manual: false }),
              again("release", "3", ["deploy-production"], { manual: true }),
            ],
          },
        ],
        pipelines: ["deploy-production", "release"],
      },
    ],
    [
      "fork code waits for approval again unless every rule naming the pipeline lets forks run",
      [
        r("1", "test", "failed", [], FORK_PR),
        r("2", "preview", "skipped", ["test"], FORK_PR),
        r("3", "docs", "skipped", ["test"], FORK_PR),
        r("4", "e2e", "skipped", ["test"], FORK_PR),
        r("5", "lint", "skipped", ["test"], FORK_PR),
      ],
      "1",
      {
        groups: [
          {
            event: FORK_PR,
            runs: [
              again("test", "1", [], { awaitingApproval: true }),
              again("preview", "2", ["test"], { manual: true }),
              again("docs", "3", ["test"], { awaitingApproval: true }),
              again("e2e", "4", ["test"], { awaitingApproval: true }),
              again("lint", "5", ["test"]),
            ],
          },
        ],
        pipelines: ["test", "preview", "docs", "e2e", "lint"],
      },
    ],
    [
      "a pull request from the repository itself runs at once",
      [r("1", "test", "failed", [], PR), r("2", "docs", "skipped", ["test"], PR)],
      "1",
      {
        groups: [{ event: PR, runs: [again("test", "1"), again("docs", "2", ["test"])] }],
        pipelines: ["test", "docs"],
      },
    ],
    [
      "a newer run still queued",
      [r("1", "test", "failed"), r("2", "test", "queued")],
      "1",
      { refused: `test is queued at ${AT}` },
    ],
    [
      "a newer run still running",
      [r("1", "test", "failed"), r("2", "test", "running")],
      "1",
      { refused: `test is running at ${AT}` },
    ],
    [
      "the clicked run itself still running",
      [r("1", "test", "running")],
      "1",
      { refused: `test is running at ${AT}` },
    ],
    [
      "a newer run waiting for its deploy",
      [r("1", "deploy-production", "failed"), r("2", "deploy-production", "waiting")],
      "1",
      { refused: `deploy-production is waiting to be deployed at ${AT}: use its Deploy button` },
    ],
    [
      "a run awaiting approval",
      [r("1", "test", "awaiting_approval", [], FORK_PR)],
      "1",
      { refused: `test awaits approval at ${AT}: use its Approve button` },
    ],
    [
      "a pipeline no longer in the config",
      [r("1", "old-deploy", "failed")],
      "1",
      { refused: "pipeline old-deploy is no longer in the config" },
    ],
  ])("%s", (_what, runs, targetId, expected) => {
    const target = runs.find((run) => run.id === targetId);
    if (!target) throw new Error(`no run ${targetId}`);
    expect(decideRerun(config, runs, target)).toEqual(expected);
  });

  it("runs from a push and a pull request at the same SHA: only the clicked run's delivery, needs within it", () => {
    // The pull request's test ran first; the push's test is the newest test at the SHA.
    const runs = [
      r("1", "test", "failed", [], PR),
      r("2", "preview", "skipped", ["test"], PR),
      r("3", "test", "failed", [], PUSH),
      r("4", "deploy", "skipped", ["test"], PUSH),
    ];
    const decision = decideRerun(config, runs, runs[2] as RunRecord);
    if ("refused" in decision) throw new Error(decision.refused);
    // Chains live within one delivery: the pull request's preview waits on the pull request's test, not this one.
    expect(decision.pipelines).toEqual(["test", "deploy"]);
    expect(decision.groups.map((group) => group.event)).toEqual([PUSH]);
    expect(decision.groups[0]?.runs).toEqual([again("test", "3"), again("deploy", "4", ["test"])]);
    // Each group becomes a delivery of its own (`store/command-runs.ts` recordRerun), and a run's needs are
    // pipelines of its own delivery: a need on a pipeline of another group can never be met.
    for (const group of decision.groups) {
      const inGroup = group.runs.map((input) => input.pipeline);
      for (const input of group.runs) expect(inGroup).toEqual(expect.arrayContaining([...input.needs]));
    }
  });
});

describe("decideRerunAll", () => {
  it.each<[string, RunRecord[], unknown]>([
    ["nothing ran", [], { refused: `nothing ran at ${AT}` }],
    [
      "one pipeline still queued",
      [r("1", "test", "queued"), r("2", "lint", "failed")],
      { refused: `test is still queued or running at ${AT}` },
    ],
    [
      "several still queued or running",
      [r("1", "test", "running"), r("2", "lint", "passed"), r("3", "deploy", "queued", ["test"])],
      { refused: `test, deploy are still queued or running at ${AT}` },
    ],
    [
      "an older run queued no longer counts",
      [r("1", "test", "queued"), r("2", "test", "failed")],
      { groups: [{ event: PUSH, runs: [again("test", "2")] }], pipelines: ["test"] },
    ],
    [
      "every pipeline waits for a button",
      [
        r("1", "deploy-production", "waiting"),
        r("2", "test", "awaiting_approval", [], FORK_PR),
        r("3", "deploy-production", "waiting"),
      ],
      { refused: `every pipeline at ${AT} waits for a button` },
    ],
    [
      "the newest run of each pipeline, in run order",
      [
        r("1", "test", "failed"),
        r("2", "deploy", "skipped", ["test"]),
        r("3", "lint", "passed"),
        r("4", "test", "passed"),
      ],
      {
        groups: [
          {
            event: PUSH,
            runs: [again("deploy", "2", ["test"]), again("lint", "3"), again("test", "4")],
          },
        ],
        pipelines: ["deploy", "lint", "test"],
      },
    ],
    [
      "runs waiting for a button are left to it, and a manual pipeline waits again",
      [
        r("1", "test", "passed"),
        r("2", "deploy", "passed", ["test"]),
        r("3", "deploy-production", "passed", ["deploy"]),
        r("4", "release", "waiting", ["deploy-production"]),
      ],
      {
        groups: [
          {
            event: PUSH,
            runs: [
              again("test", "1"),
              again("deploy", "2", ["test"]),
              again("deploy-production", "3", ["deploy"], { manual: true }),
            ],
          },
        ],
        pipelines: ["test", "deploy", "deploy-production"],
      },
    ],
    [
      "pipelines no longer in the config are left out",
      [r("1", "test", "passed"), r("2", "old-deploy", "failed", ["test"])],
      { groups: [{ event: PUSH, runs: [again("test", "1")] }], pipelines: ["test"] },
    ],
    [
      "fork code waits for approval again",
      [r("1", "test", "passed", [], FORK_PR), r("2", "lint", "failed", [], FORK_PR)],
      {
        groups: [
          {
            event: FORK_PR,
            runs: [again("test", "1", [], { awaitingApproval: true }), again("lint", "2")],
          },
        ],
        pipelines: ["test", "lint"],
      },
    ],
    [
      "a push and a pull request at the same SHA: one group each, with its own event",
      [
        r("1", "test", "failed", [], PUSH),
        r("2", "deploy", "skipped", ["test"], PUSH),
        r("3", "lint", "failed", [], PR),
        r("4", "docs", "skipped", ["lint"], PR),
      ],
      {
        groups: [
          { event: PUSH, runs: [again("test", "1"), again("deploy", "2", ["test"])] },
          { event: PR, runs: [again("lint", "3"), again("docs", "4", ["lint"])] },
        ],
        pipelines: ["test", "deploy", "lint", "docs"],
      },
    ],
  ])("%s", (_what, runs, expected) => {
    expect(decideRerunAll(config, runs, SHA)).toEqual(expected);
  });

  it("a push and a pull request running the same pipeline: needs stay within each group", () => {
    // The pull request ran test and preview first; the push's test is the newest test at the SHA.
    const runs = [
      r("1", "test", "failed", [], PR),
      r("2", "preview", "skipped", ["test"], PR),
      r("3", "test", "failed", [], PUSH),
    ];
    const decision = decideRerunAll(config, runs, SHA);
    if ("refused" in decision) throw new Error(decision.refused);
    expect(decision.groups.map((group) => group.event)).toEqual([PR, PUSH]);
    // The chain is never cut in two: the pull request's test runs again with the preview that needs it.
    expect(decision.groups.map((group) => group.runs.map((input) => [input.pipeline, input.needs]))).toEqual([
      [
        ["test", []],
        ["preview", ["test"]],
      ],
      [["test", []]],
    ]);
    expect(decision.pipelines).toEqual(["test", "preview"]);
    // Each group becomes a delivery of its own: a need on a pipeline of another group can never be met.
    for (const group of decision.groups) {
      const inGroup = group.runs.map((input) => input.pipeline);
      for (const input of group.runs) expect(inGroup).toEqual(expect.arrayContaining([...input.needs]));
    }
  });
});

describe("decideButton", () => {
  const approvable = r("1", "test", "awaiting_approval", [], FORK_PR);
  const waiting = r("2", "deploy-production", "waiting", ["deploy"]);
  const waitingStaging = r("3", "deploy", "waiting");

  it.each<[string, RunRecord, string, string, unknown]>([
    [
      "approve on a fork run awaiting approval",
      approvable,
      "approve",
      "carol",
      { approve: { prNumber: 7, sha: SHA } },
    ],
    [
      "approve on a run that passed",
      r("4", "test", "passed", [], FORK_PR),
      "approve",
      "alice",
      { refused: `test at ${AT} does not await approval (it is passed)` },
    ],
    [
      "approve on a run that timed out",
      r("4", "test", "timed_out", [], FORK_PR),
      "approve",
      "alice",
      { refused: `test at ${AT} does not await approval (it is timed out)` },
    ],
    [
      "approve on a waiting deploy",
      waiting,
      "approve",
      "alice",
      { refused: `deploy-production at ${AT} does not await approval (it is waiting)` },
    ],
    [
      "deploy on a waiting run, by a deployer",
      waiting,
      "deploy",
      "Alice",
      { deploy: { environment: "production" } },
    ],
    [
      "deploy by a deployer in another case",
      waiting,
      "deploy",
      "ALICE",
      { deploy: { environment: "production" } },
    ],
    ["deploy by the other deployer", waiting, "deploy", "Bob", { deploy: { environment: "production" } }],
    [
      "deploy by someone not among the deployers",
      waiting,
      "deploy",
      "carol",
      { refused: "only Alice, bob may deploy deploy-production" },
    ],
    [
      "deploy by a login that only starts like a deployer",
      waiting,
      "deploy",
      "alic",
      { refused: "only Alice, bob may deploy deploy-production" },
    ],
    [
      "deploy of a pipeline without deployers",
      waitingStaging,
      "deploy",
      "carol",
      { deploy: { environment: "staging" } },
    ],
    [
      "deploy on a run that passed",
      r("5", "deploy-production", "passed"),
      "deploy",
      "alice",
      { refused: `deploy-production at ${AT} is not waiting to be deployed (it is passed)` },
    ],
    [
      "deploy on a run awaiting approval",
      approvable,
      "deploy",
      "alice",
      { refused: `test at ${AT} is not waiting to be deployed (it is awaiting approval)` },
    ],
    [
      "approve on a push's run awaiting approval (no pull request to approve)",
      r("6", "test", "awaiting_approval"),
      "approve",
      "alice",
      { refused: `test at ${AT} is not a pull request's run` },
    ],
    [
      "deploy on a waiting run without an environment",
      r("7", "test", "waiting"),
      "deploy",
      "alice",
      { refused: "test deploys to no environment" },
    ],
    ["an unknown button", waiting, "launch", "alice", { refused: 'unknown button "launch"' }],
    ["a button in another case", approvable, "Approve", "alice", { refused: 'unknown button "Approve"' }],
    ["an empty identifier", waiting, "", "alice", { refused: 'unknown button ""' }],
  ])("%s", (_what, target, identifier, login, expected) => {
    expect(decideButton(config, target, identifier, login)).toEqual(expected);
  });
});
