/**
 * Process suite, GitHub Deployments: a push to main deploys to production as a Deployment at the exact SHA, with
 * statuses queued → in_progress → success linking the run page and the environment URL the step wrote to
 * DEPLOYBOT_OUTPUT; the next push's failing deploy ends `failure`.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import type { FakeDeployment } from "./fake-deployments.ts";
import { FULL_NAME, type Scenario, withScenario } from "./scenario.ts";

const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: "true"
  deploy:
    environment: production
    steps:
      - name: Deploy
        # Waits (at most 20 s) for the test to have seen in_progress; fails for a "broken" commit.
        run: |
          for i in $(seq 200); do test -f ${JSON.stringify(scratch)}/gate-$DEPLOYBOT_SHA && break; sleep 0.1; done
          test "$(cat src/app.txt)" != broken
          echo "environment_url=https://app.example.com/$DEPLOYBOT_SHA" >> "$DEPLOYBOT_OUTPUT"
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

const FINAL = new Set(["success", "failure", "error"]);

/** The states a Deployment went through, a repeated one counted once. */
const states = (deployment: FakeDeployment) =>
  deployment.statuses.map((status) => status.state).filter((state, i, all) => state !== all[i - 1]);

/**
 * Opens the deploy step's gate at `sha` once GitHub shows its Deployment `in_progress` (GitHub's write throttling
 * spaces the bot's calls a second apart, so a quick step could otherwise end before in_progress is posted).
 */
async function openGateWhenInProgress(s: Scenario, sha: string): Promise<void> {
  await waitFor(`deployment in_progress at ${sha.slice(0, 7)}`, () =>
    s.github
      .deployments(FULL_NAME)
      .some((d) => d.request.ref === sha && d.statuses.some((status) => status.state === "in_progress")),
  );
  await writeFile(path.join(s.scratch, `gate-${sha}`), "");
}

/** Waits until the one Deployment at `sha` has a final status. */
function finalDeployment(deployments: () => FakeDeployment[], sha: string): Promise<FakeDeployment> {
  return waitFor(`a final deployment status at ${sha.slice(0, 7)}`, () => {
    const at = deployments().filter((d) => d.request.ref === sha);
    const last = at[0]?.statuses.at(-1);
    return at.length > 0 && last && FINAL.has(last.state) ? at[0] : undefined;
  });
}

export async function deploymentsFollowRuns(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const deployments = () => s.github.deployments(FULL_NAME);
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.text).toBe("accepted: 2 runs queued\n");
    await openGateWhenInProgress(s, sha);

    const deployment = await finalDeployment(deployments, sha);
    const statuses = await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
    const runPage = statuses.get("deploy-bot/deploy")?.at(-1)?.target_url ?? "";
    const runId = runPage.split("/").at(-1);
    expect(runPage).toMatch(new RegExp(`^${s.bot.url}/runs/`));

    // One Deployment for the one deploy run (none for test), at the exact SHA, with the exact fields.
    expect(deployments()).toHaveLength(1);
    expect(deployment.request).toEqual({
      ref: sha,
      task: "deploy",
      auto_merge: false,
      required_contexts: [],
      payload: { run_id: runId, pipeline: "deploy", delivery_id: expect.any(String) },
      environment: "production",
      description: `deploy-bot: deploy at ${sha.slice(0, 7)}`,
      transient_environment: false,
      production_environment: true,
    });
    const url = `https://app.example.com/${sha}`;
    // in_progress may come twice: again with the environment URL as soon as the step reported it.
    expect(states(deployment)).toEqual(["queued", "in_progress", "success"]);
    for (const status of deployment.statuses) expect(status.log_url).toBe(runPage);
    expect(deployment.statuses.at(-1)).toMatchObject({
      state: "success",
      environment_url: url,
      description: expect.stringMatching(/^Passed in /),
    });
    // The run page links the environment too.
    const page = await s.bot.get(new URL(runPage).pathname);
    expect(page.text).toContain(`<dt>Environment URL</dt><dd><a href="${url}" rel="noopener noreferrer">`);
  });
}

/** A deploy that fails: its Deployment ends `failure`, with no environment URL. */
export async function failingDeployEndsFailure(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const deployments = () => s.github.deployments(FULL_NAME);
    const broken = await s.work.commit({ "src/app.txt": "broken" });
    await s.work.push("main");
    await s.bot.send("push", s.pushPayload(broken));
    await openGateWhenInProgress(s, broken);
    const failed = await finalDeployment(deployments, broken);
    expect(deployments()).toHaveLength(1);
    expect(states(failed)).toEqual(["queued", "in_progress", "failure"]);
    expect(failed.statuses.at(-1)).toMatchObject({ description: "Failed: Deploy exited with 1" });
    expect(failed.statuses.at(-1)?.environment_url).toBeUndefined();
  });
}
