/** Process suite, a failing test: the chained deploy never runs and its status says it was skipped. */
import { existsSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { withScenario } from "./scenario.ts";

const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "1 test failed" && exit 3
  deploy:
    steps:
      - name: Deploy
        run: touch ${JSON.stringify(path.join(scratch, "deployed"))}
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

/** A failing test fails its status and the deploy is skipped without running. */
export async function failingTestSkipsDeploy(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "broken" });
    await s.work.push("main");
    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.text).toBe("accepted: 2 runs queued\n");

    const statuses = await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
    expect(statuses.get("deploy-bot/test")?.at(-1)).toMatchObject({
      state: "failure",
      description: "Failed: Unit tests exited with 3",
    });
    const deploy = statuses.get("deploy-bot/deploy") ?? [];
    expect(deploy.at(-1)).toMatchObject({ state: "error", description: "Skipped: test failed" });
    // Never running: only "waiting" before the skip, and the step's side effect never happened.
    expect(deploy.slice(0, -1).map((c) => c.description)).toEqual(
      deploy.slice(0, -1).map(() => "Waiting for test"),
    );
    expect(existsSync(path.join(s.scratch, "deployed"))).toBe(false);

    const page = await s.bot.get(new URL(deploy.at(-1)?.target_url ?? "").pathname);
    expect(page.status).toBe(200);
    expect(page.text).toContain("test failed");
  });
}
