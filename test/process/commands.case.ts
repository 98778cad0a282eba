/**
 * Process suite, `/deploy-bot` commands: the real server against the fake GitHub (permissions per user, pulls,
 * commits, reactions — all OpenAPI-checked) and a real git remote.
 * - On a pull request: a reader's `deploy staging` is refused (`confused`, the reason in the one comment); a
 *   writer's runs staging at the head SHA read from the API (`rocket`); a redelivery of it does nothing.
 * - On main: a manual production deploy waits after test passes and starts on `/deploy-bot deploy production
 *   main` (an issue comment); after a second deploy, `rollback production` deploys the first SHA again.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { issueCommentPayload } from "../helpers/webhooks.ts";
import { waitFor } from "./bot-process.ts";
import { FULL_NAME, INSTALLATION_ID, PR_NUMBER, type Scenario, withScenario } from "./scenario.ts";

const MARKER = "<!-- deploy-bot:pr-comment -->";
const ISSUE = 17;

const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "testing $DEPLOYBOT_SHA"
  deploy-staging:
    environment: staging
    steps:
      - name: Deploy
        run: echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "staging.txt"))}
  deploy-production:
    environment: production
    manual: true
    steps:
      - name: Deploy
        run: echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "production.txt"))}
rules:
  - name: test pull requests
    on:
      pull_request:
    run: [test]
  - name: release main
    on:
      push:
        branches: [main]
    run: [test, deploy-production]
`;

function commentOn(
  s: Scenario,
  body: string,
  options: { login: string; commentId: number; pullRequest: boolean; number?: number },
) {
  return issueCommentPayload(
    (payload) => {
      (payload.repository as Record<string, unknown>).clone_url = s.cloneUrl;
      payload.installation = { id: INSTALLATION_ID };
    },
    { body, number: options.number ?? PR_NUMBER, ...options },
  );
}

const lines = async (file: string) =>
  (await readFile(file, "utf8").catch(() => "")).split("\n").filter((line) => line !== "");

/** A reader is refused, a writer deploys staging at the PR's head, and a redelivery does nothing. */
export async function commandsOnPullRequest(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const head = await s.commitPullRequest({ "src/feature.txt": "one" });
    s.github.setPullRequest(FULL_NAME, PR_NUMBER, { sha: head, ref: "changes", headRepo: FULL_NAME });
    s.github.setPermission("reader", "read");
    expect((await s.bot.send("pull_request", s.prPayload("opened", head))).text).toBe(
      "accepted: 1 runs queued\n",
    );
    await s.finalStatuses(head, ["deploy-bot/test"]);

    // A reader: confused, and the reason in the one comment; nothing runs.
    const refused = await s.bot.send(
      "issue_comment",
      commentOn(s, "/deploy-bot deploy staging", { login: "reader", commentId: 501, pullRequest: true }),
    );
    expect(refused.text).toBe("command refused: @reader has read access; deploy needs write access\n");
    await waitFor("the reader's reactions", () => s.github.reactions(FULL_NAME, 501).length === 2);
    expect(s.github.reactions(FULL_NAME, 501)).toEqual(["eyes", "confused"]);
    await waitFor("the refusal in the comment", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).some((c) => c.body.includes("was refused")),
    );
    const afterRefusal = s.github.comments(FULL_NAME, PR_NUMBER);
    expect(afterRefusal).toHaveLength(1);
    expect(afterRefusal[0]?.body).toContain(
      "😕 `/deploy-bot deploy staging` by @\u200breader was refused: @\u200breader has read access; deploy needs write access.",
    );

    // A writer: staging runs at the head SHA the API gave, and the comment says who started it.
    const comment = commentOn(s, "/deploy-bot deploy staging", {
      login: "writer",
      commentId: 502,
      pullRequest: true,
    });
    const accepted = await s.bot.send("issue_comment", comment);
    expect(accepted.text).toBe(`command accepted: deploy deploy-staging to staging at ${head.slice(0, 7)}\n`);
    const statuses = await s.finalStatuses(head, ["deploy-bot/deploy-staging"]);
    expect(statuses.get("deploy-bot/deploy-staging")?.at(-1)?.state).toBe("success");
    expect(await lines(path.join(s.scratch, "staging.txt"))).toEqual([head]);
    await waitFor("the writer's reactions", () => s.github.reactions(FULL_NAME, 502).length === 2);
    expect(s.github.reactions(FULL_NAME, 502)).toEqual(["eyes", "rocket"]);
    await waitFor("the deploy in the comment", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).some((c) => c.body.includes("deploy-staging (staging) | ✅")),
    );
    const comments = s.github.comments(FULL_NAME, PR_NUMBER);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body.startsWith(MARKER)).toBe(true);
    expect(comments[0]?.body).toContain("Started by @\u200bwriter with `/deploy-bot deploy staging`.");

    // The same delivery again: acknowledged, nothing run, no reaction, no new status.
    const statusCount = s.github.statuses({ sha: head }).length;
    // Let the reports of the deploy settle first.
    await waitFor("the comment to show the deploy passed", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).some((c) => c.body.includes("✅ Passed")),
    );
    await waitFor("the Deployment's final status", () =>
      s.github.deployments(FULL_NAME).some((d) => d.statuses.at(-1)?.state === "success"),
    );
    const calls = s.github.calls.length;
    const again = await s.bot.send("issue_comment", comment, accepted.id);
    expect(again).toMatchObject({ status: 200, text: "duplicate delivery: already handled\n" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(s.github.statuses({ sha: head })).toHaveLength(statusCount);
    // (The one comment may still be catching up with the finished deploy; nothing else is sent.)
    expect(
      s.github.calls
        .slice(calls)
        .filter((c) => !(c.method === "PATCH" && c.path.includes("/issues/comments/"))),
    ).toEqual([]);
    expect(await lines(path.join(s.scratch, "staging.txt"))).toEqual([head]);
  });
}

/** A manual production deploy waits for the command; a rollback deploys the previous good SHA again. */
export async function manualDeployAndRollback(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const production = path.join(s.scratch, "production.txt");
    const release = async (sha: string, commentId: number) => {
      await s.work.push("main");
      s.github.setRef(FULL_NAME, "main", sha);
      expect((await s.bot.send("push", s.pushPayload(sha))).text).toBe("accepted: 2 runs queued\n");
      const waiting = await waitFor(`deploy-production waiting at ${sha.slice(0, 7)}`, () =>
        s.github
          .statuses({ sha })
          .find(
            (status) =>
              status.context === "deploy-bot/deploy-production" &&
              status.description === "Waiting for /deploy-bot deploy production",
          ),
      );
      expect(
        s.github
          .statuses({ sha })
          .filter((x) => x.context === "deploy-bot/test")
          .at(-1)?.state,
      ).toBe("success");
      expect(await lines(production)).not.toContain(sha);
      const answer = await s.bot.send(
        "issue_comment",
        commentOn(s, "/deploy-bot deploy production main", {
          login: "writer",
          commentId,
          pullRequest: false,
          number: ISSUE,
        }),
      );
      expect(answer.text).toBe(
        `command accepted: deploy deploy-production to production at ${sha.slice(0, 7)}\n`,
      );
      const statuses = await s.finalStatuses(sha, ["deploy-bot/deploy-production"]);
      // The waiting run itself started (its run page), not a second run beside it.
      expect(statuses.get("deploy-bot/deploy-production")?.at(-1)).toMatchObject({
        state: "success",
        target_url: waiting.target_url,
      });
    };

    const first = await s.work.commit({ "src/app.txt": "v1" });
    await release(first, 601);
    const second = await s.work.commit({ "src/app.txt": "v2" });
    await release(second, 602);
    expect(await lines(production)).toEqual([first, second]);

    const successes = () =>
      s.github
        .statuses({ sha: first })
        .filter((x) => x.context === "deploy-bot/deploy-production" && x.state === "success").length;
    expect(successes()).toBe(1);
    const rollback = await s.bot.send(
      "issue_comment",
      commentOn(s, "/deploy-bot rollback production", {
        login: "writer",
        commentId: 603,
        pullRequest: false,
        number: ISSUE,
      }),
    );
    expect(rollback.text).toBe(
      `command accepted: roll production back to ${first.slice(0, 7)} (replacing ${second.slice(0, 7)})\n`,
    );
    await waitFor("the rollback's success", () => successes() === 2, 30_000);
    expect(await lines(production)).toEqual([first, second, first]);
    await waitFor("the rollback in the issue's comment", () =>
      s.github
        .comments(FULL_NAME, ISSUE)
        .some((c) => c.body.includes("Rollback to") && c.body.includes("✅")),
    );
    const comments = s.github.comments(FULL_NAME, ISSUE);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain(
      `**Rollback to \`${first.slice(0, 7)}\`**, replacing \`${second.slice(0, 7)}\`.`,
    );
    expect(s.github.reactions(FULL_NAME, 603)).toEqual(["eyes", "rocket"]);
  });
}
