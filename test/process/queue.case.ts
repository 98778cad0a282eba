/**
 * Process suite, environment queue and repeated commands: the real server against the fake GitHub.
 * - A PR's deploy queued behind main's running deploy of the same environment: the PR comment says which
 *   commit deploys there now and that this one is 1st in line; once the gate opens it deploys and says so.
 * - `retry` after a failure runs again only what did not pass (test), not lint.
 * - Two distinct `/deploy-bot deploy production` comments for one waiting manual run: it runs once.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { issueCommentPayload } from "../helpers/webhooks.ts";
import { waitFor } from "./bot-process.ts";
import { FULL_NAME, INSTALLATION_ID, PR_NUMBER, type Scenario, withScenario } from "./scenario.ts";

const ISSUE = 19;
const lines = async (file: string) =>
  (await readFile(file, "utf8").catch(() => "")).split("\n").filter((line) => line !== "");
/** A shell loop that waits (at most 60 s) for `file`. */
const gate = (file: string) =>
  `i=0; while [ ! -f ${JSON.stringify(file)} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`;

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

const queueConfig = (scratch: string) => `version: 1
pipelines:
  deploy-staging:
    environment: staging
    steps:
      - name: Deploy
        run: ${gate(path.join(scratch, "gate"))}; echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "staging.txt"))}
rules:
  - name: release main
    on:
      push:
        branches: [main]
    run: [deploy-staging]
  - name: preview pull requests
    on:
      pull_request:
    run: [deploy-staging]
`;

/** A PR's deploy waits behind main's running one: the comment names the deploying commit and the place in line. */
export async function deployWaitsInLine(): Promise<void> {
  await withScenario({ configYaml: queueConfig }, async (s) => {
    const first = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    s.github.setRef(FULL_NAME, "main", first);
    expect((await s.bot.send("push", s.pushPayload(first))).text).toBe("accepted: 1 runs queued\n");
    await waitFor("main's deploy running", () =>
      s.github
        .statuses({ sha: first })
        .some((x) => x.context === "deploy-bot/deploy-staging" && x.description?.startsWith("Running")),
    );

    const head = await s.commitPullRequest({ "src/feature.txt": "one" });
    s.github.setPullRequest(FULL_NAME, PR_NUMBER, { sha: head, ref: "changes", headRepo: FULL_NAME });
    expect((await s.bot.send("pull_request", s.prPayload("opened", head))).text).toBe(
      "accepted: 1 runs queued\n",
    );
    const waiting = `⏳ Waiting for staging: \`${first.slice(0, 7)}\` is deploying`;
    const comment = await waitFor("the place in line in the PR comment", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).find((c) => c.body.includes(waiting)),
    );
    expect(comment.body).toContain("; this is 1st in line.");
    expect(await lines(path.join(s.scratch, "staging.txt"))).toEqual([]);

    await writeFile(path.join(s.scratch, "gate"), "open");
    const statuses = await s.finalStatuses(head, ["deploy-bot/deploy-staging"]);
    expect(statuses.get("deploy-bot/deploy-staging")?.at(-1)?.state).toBe("success");
    await waitFor("the PR deploy passed in the comment", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).some((c) => c.body.includes("deploy-staging (staging) | ✅")),
    );
    const comments = s.github.comments(FULL_NAME, PR_NUMBER);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).not.toContain("Waiting for staging");
    expect(await lines(path.join(s.scratch, "staging.txt"))).toEqual([first, head]);
  });
}

const retryConfig = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo run >> ${JSON.stringify(path.join(scratch, "test.txt"))}; if [ ! -f ${JSON.stringify(path.join(scratch, "flaked"))} ]; then touch ${JSON.stringify(path.join(scratch, "flaked"))}; exit 1; fi
  lint:
    steps:
      - name: Lint
        run: echo run >> ${JSON.stringify(path.join(scratch, "lint.txt"))}
rules:
  - name: check pull requests
    on:
      pull_request:
    run: [lint, test]
`;

/** `retry` after a failure queues only what did not pass. */
export async function retryRunsOnlyWhatFailed(): Promise<void> {
  await withScenario({ configYaml: retryConfig }, async (s) => {
    const head = await s.commitPullRequest({ "src/feature.txt": "one" });
    s.github.setPullRequest(FULL_NAME, PR_NUMBER, { sha: head, ref: "changes", headRepo: FULL_NAME });
    expect((await s.bot.send("pull_request", s.prPayload("opened", head))).text).toBe(
      "accepted: 2 runs queued\n",
    );
    const first = await s.finalStatuses(head, ["deploy-bot/test", "deploy-bot/lint"]);
    expect(first.get("deploy-bot/test")?.at(-1)?.state).toBe("failure");
    expect(first.get("deploy-bot/lint")?.at(-1)?.state).toBe("success");

    const answer = await s.bot.send(
      "issue_comment",
      commentOn(s, "/deploy-bot retry", { login: "writer", commentId: 701, pullRequest: true }),
    );
    expect(answer.text).toBe(`command accepted: run test again at ${head.slice(0, 7)}\n`);
    await waitFor("test passing on retry", () =>
      s.github.statuses({ sha: head }).some((x) => x.context === "deploy-bot/test" && x.state === "success"),
    );
    await waitFor("the retry in the comment", () =>
      s.github.comments(FULL_NAME, PR_NUMBER).some((c) => c.body.includes("| test | ✅")),
    );
    expect(await lines(path.join(s.scratch, "test.txt"))).toEqual(["run", "run"]);
    expect(await lines(path.join(s.scratch, "lint.txt"))).toEqual(["run"]);
  });
}

const manualConfig = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo ok
  deploy-production:
    environment: production
    manual: true
    steps:
      - name: Deploy
        run: ${gate(path.join(scratch, "gate"))}; echo "$DEPLOYBOT_SHA" >> ${JSON.stringify(path.join(scratch, "production.txt"))}
rules:
  - name: release main
    on:
      push:
        branches: [main]
    run: [test, deploy-production]
`;

/** Two distinct deploy comments for one waiting manual run: it deploys once. */
export async function repeatedDeployRunsOnce(): Promise<void> {
  await withScenario({ configYaml: manualConfig }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    s.github.setRef(FULL_NAME, "main", sha);
    expect((await s.bot.send("push", s.pushPayload(sha))).text).toBe("accepted: 2 runs queued\n");
    await waitFor("deploy-production waiting", () =>
      s.github
        .statuses({ sha })
        .some(
          (x) =>
            x.context === "deploy-bot/deploy-production" &&
            x.description === "Waiting for /deploy-bot deploy production",
        ),
    );
    const deploy = (commentId: number) =>
      s.bot.send(
        "issue_comment",
        commentOn(s, "/deploy-bot deploy production main", {
          login: "writer",
          commentId,
          pullRequest: false,
          number: ISSUE,
        }),
      );
    const accepted = `command accepted: deploy deploy-production to production at ${sha.slice(0, 7)}\n`;
    // Both while the deploy is held at its gate: the second finds it released, and starts nothing new.
    const [one, two] = await Promise.all([deploy(801), deploy(802)]);
    expect([one.text, two.text]).toEqual([accepted, accepted]);
    await waitFor("both commands answered", () =>
      [801, 802].every((id) => s.github.reactions(FULL_NAME, id).length === 2),
    );
    await writeFile(path.join(s.scratch, "gate"), "open");
    await s.finalStatuses(sha, ["deploy-bot/deploy-production"]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // One run: every production status points at the same run page.
    const pages = s.github
      .statuses({ sha })
      .filter((x) => x.context === "deploy-bot/deploy-production")
      .map((x) => x.target_url);
    expect(new Set(pages).size).toBe(1);
    expect(await lines(path.join(s.scratch, "production.txt"))).toEqual([sha]);
  });
}
