import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { Config } from "../../src/config/schema.ts";
import type { ChangedFiles } from "../../src/events/deploy-event.ts";
import { type AcceptDeps, type AcceptInput, acceptDelivery } from "../../src/flow/accept-delivery.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import { fixture } from "../fixtures/fixtures.ts";

const CONFIG = `
version: 1
pipelines:
  test: { steps: [{ name: Unit tests, run: "true" }, { name: Lint, run: "true" }] }
  deploy: { environment: production, steps: [{ name: Deploy, run: "true" }] }
  docs: { steps: [{ name: Build, run: "true" }] }
rules:
  - name: deploy main
    on: { push: { branches: [main] } }
    run: [test, deploy]
  - name: test pull requests
    on: { pull_request: {} }
    run: [test]
  - name: docs pull requests
    on: { pull_request: { paths: ["docs/**"] } }
    run: [docs]
    forks: never
`;

function loadConfig(text = CONFIG): Config {
  const result = parseConfig(text, "deploy.config.yaml");
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

/** Records what the flow asks for, answering as the store does (duplicate ids are no-ops). */
function harness(options: { files?: () => Promise<ChangedFiles> } = {}) {
  const recorded: AcceptInput[] = [];
  const ignored: AcceptInput[] = [];
  const reported: string[] = [];
  const listed: number[] = [];
  const config = loadConfig();
  const deps: AcceptDeps = {
    config: () => config,
    record: async (input) => {
      const duplicate = recorded.some((earlier) => earlier.deliveryId === input.deliveryId);
      if (!duplicate) recorded.push(input);
      const runs = duplicate
        ? []
        : input.runs.map(
            (run, i) => ({ id: `run-${i}`, pipeline: run.pipeline, state: run.initialState }) as RunRecord,
          );
      return { duplicate, runs, superseded: [], skipped: [] };
    },
    recordIgnored: (input) => ignored.push(input),
    listChangedFiles: async (event) => {
      listed.push(event.prNumber);
      return options.files ? options.files() : { known: true, files: ["src/app.ts"] };
    },
    report: (run) => reported.push(`${run.pipeline}:${run.state}`),
  };
  return { deps, recorded, ignored, reported, listed };
}

describe("acceptDelivery", () => {
  it("records a push to main as a chain: test, then deploy once test passed", async () => {
    const { deps, recorded, reported } = harness();
    const result = await acceptDelivery(deps, { id: "d1", name: "push", payload: fixture("push.branch") });
    expect(result.outcome).toBe("accepted");
    expect(recorded[0]).toMatchObject({
      deliveryId: "d1",
      eventName: "push",
      repo: "Codertocat/Hello-World",
      outcome: "planned",
      reason: null,
      runs: [
        {
          pipeline: "test",
          needs: [],
          environment: null,
          stepNames: ["Unit tests", "Lint"],
          initialState: "queued",
        },
        {
          pipeline: "deploy",
          needs: ["test"],
          environment: "production",
          stepNames: ["Deploy"],
          initialState: "queued",
        },
      ],
    });
    expect(reported).toEqual(["test:queued", "deploy:queued"]);
  });

  it("hands an ignored delivery to the batched recorder with its reason and reports nothing", async () => {
    const { deps, recorded, ignored, reported } = harness();
    const payload = fixture("push.branch-deleted");
    const result = await acceptDelivery(deps, { id: "d2", name: "push", payload });
    expect(result).toEqual({ outcome: "ignored", reason: expect.stringContaining("deleted") });
    expect(recorded).toEqual([]);
    expect(ignored[0]).toMatchObject({
      outcome: "ignored",
      runs: [],
      reason: expect.stringContaining("deleted"),
    });
    expect(reported).toEqual([]);
  });

  it("acknowledges a redelivery without reporting again", async () => {
    const { deps, recorded, reported } = harness();
    await acceptDelivery(deps, { id: "same", name: "push", payload: fixture("push.branch") });
    const again = await acceptDelivery(deps, { id: "same", name: "push", payload: fixture("push.branch") });
    expect(again).toEqual({ outcome: "duplicate" });
    expect(recorded).toHaveLength(1);
    expect(reported).toHaveLength(2);
  });

  it("lists a pull request's files only because a rule filters on paths", async () => {
    const { deps, recorded, listed } = harness();
    await acceptDelivery(deps, { id: "d3", name: "pull_request", payload: fixture("pull_request.opened") });
    expect(listed).toEqual([2]);
    expect(recorded[0]?.runs.map((run) => run.pipeline)).toEqual(["test"]);
  });

  it("treats files it could not list as unknown, never as no files", async () => {
    const { deps, recorded } = harness({
      files: async () => ({ known: false, reason: "listing failed: 502" }),
    });
    await acceptDelivery(deps, { id: "d4", name: "pull_request", payload: fixture("pull_request.opened") });
    expect(recorded[0]?.runs.map((run) => run.pipeline)).toEqual(["test", "docs"]);
  });

  it("makes a fork's runs wait for approval and drops pipelines whose rules say forks never run", async () => {
    const { deps, recorded, reported } = harness({
      files: async () => ({ known: true, files: ["docs/a.md"] }),
    });
    await acceptDelivery(deps, {
      id: "d5",
      name: "pull_request",
      payload: fixture("pull_request.opened-fork"),
    });
    expect(recorded[0]?.runs).toMatchObject([{ pipeline: "test", initialState: "awaiting_approval" }]);
    expect(reported).toEqual(["test:awaiting_approval"]);
  });

  it("ignores events it does not run pipelines for, with the reason", async () => {
    const { deps } = harness();
    const result = await acceptDelivery(deps, {
      id: "d6",
      name: "pull_request",
      payload: fixture("pull_request.closed"),
    });
    expect(result.outcome).toBe("ignored");
  });
});
