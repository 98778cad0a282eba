/** Process suite, a push to main: `test` then `deploy` (chained), final statuses, and the run page. */
import { existsSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { FULL_NAME, REPO, withScenario } from "./scenario.ts";

const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        # Slow enough that deploy's "Waiting for test" reaches GitHub before test passes, even behind the
        # one-write-a-second limit on a loaded machine (reports coalesce: a state gone by is not sent).
        run: sleep 3 && test "$(cat src/app.txt)" = v1 && echo "tests passed at $DEPLOYBOT_SHA"
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: echo "deploying $DEPLOYBOT_REPO to $DEPLOYBOT_ENVIRONMENT" && touch ${JSON.stringify(path.join(scratch, "deployed"))}
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

/** A push to main runs test then deploy, reports both as success, and serves the run page. */
export async function pushToMain(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");

    const answer = await s.bot.send("push", s.pushPayload(sha));
    expect(answer.status, answer.text).toBe(202);
    expect(answer.text).toBe("accepted: 2 runs queued\n");

    const statuses = await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
    const test = statuses.get("deploy-bot/test") ?? [];
    const deploy = statuses.get("deploy-bot/deploy") ?? [];
    expect(test.at(-1)).toMatchObject({
      state: "success",
      description: expect.stringMatching(/^Passed in /),
    });
    expect(deploy.at(-1)).toMatchObject({
      state: "success",
      description: expect.stringMatching(/^Passed in /),
    });
    // Chained: deploy waited for test, and test had passed before deploy did anything.
    expect(deploy[0]).toMatchObject({ state: "pending", description: "Waiting for test" });
    const all = s.github.statuses({ sha });
    const testPassed = all.findIndex((c) => c.context === "deploy-bot/test" && c.state === "success");
    const deployMoved = all.findIndex(
      (c) => c.context === "deploy-bot/deploy" && c.description !== "Waiting for test",
    );
    expect(testPassed).toBeGreaterThanOrEqual(0);
    expect(deployMoved).toBeGreaterThan(testPassed);

    // The steps ran where the test can see what they did (the failing-test case relies on it).
    expect(existsSync(path.join(s.scratch, "deployed"))).toBe(true);

    // The checkout used a token minted by the Enterprise API for this one repository, read-only.
    const mints = s.github.calls.filter((c) => c.method === "POST" && c.path.endsWith("/access_tokens"));
    expect(mints.map((c) => c.body)).toContainEqual({
      repositories: [REPO],
      permissions: { contents: "read" },
    });
    const fetches = s.gitServer.requests;
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.filter((r) => !r.authorized)).toEqual([]);

    // The status links to the run page, which the bot serves.
    const link = deploy.at(-1)?.target_url ?? "";
    expect(link).toMatch(new RegExp(`^${s.bot.url}/runs/[A-Za-z0-9_-]{16,64}$`));
    const page = await s.bot.get(new URL(link).pathname);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain("deploy");
    expect(page.text).toContain("Deploy");
    expect(page.text).toContain(FULL_NAME);
    const log = await s.bot.get(`${new URL(link).pathname}/log`);
    expect(log.text).toContain(`deploying ${FULL_NAME} to production`);
  });
}
