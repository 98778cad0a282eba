/** Process suite, a pull request: opened, then synchronize with a new head → one comment, edited in place. */
import { expect } from "vitest";
import { FULL_NAME, PR_NUMBER, type Scenario, withScenario } from "./scenario.ts";

const CONFIG = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "testing PR $DEPLOYBOT_PR_NUMBER at $DEPLOYBOT_SHA"
rules:
  - name: test pull requests
    on:
      pull_request:
        branches: [main]
        paths: ['src/**']
    run: [test]
`;

const COMMENTS = `/repos/${FULL_NAME}/issues/${PR_NUMBER}/comments`;
const MARKER = "<!-- deploy-bot:pr-comment -->";

/** Waits until the PR's comments show `sha` passed; returns them. */
const commentShowsPassed = (s: Scenario, sha: string) =>
  s.github
    .comments(FULL_NAME, PR_NUMBER)
    .some((c) => c.body.includes(sha.slice(0, 7)) && c.body.includes("✅"));

/** A pull request (opened, then synchronize) keeps one comment, created once and edited in place. */
export async function pullRequestComment(): Promise<void> {
  await withScenario({ configYaml: CONFIG }, async (s) => {
    s.github.setPullRequestFiles(FULL_NAME, PR_NUMBER, ["src/feature.txt"]);
    const first = await s.commitPullRequest({ "src/feature.txt": "one" });
    const opened = await s.bot.send("pull_request", s.prPayload("opened", first));
    expect(opened.text).toBe("accepted: 1 runs queued\n");
    await s.finalStatuses(first, ["deploy-bot/test"]);
    await waitUntil(`the comment for ${first.slice(0, 7)}`, () => commentShowsPassed(s, first));

    const second = await s.commitPullRequest({ "src/feature.txt": "two" });
    const synchronized = await s.bot.send("pull_request", s.prPayload("synchronize", second));
    expect(synchronized.text).toBe("accepted: 1 runs queued\n");
    const statuses = await s.finalStatuses(second, ["deploy-bot/test"]);
    expect(statuses.get("deploy-bot/test")?.at(-1)?.state).toBe("success");
    await waitUntil(`the comment for ${second.slice(0, 7)}`, () => commentShowsPassed(s, second));

    const comments = s.github.comments(FULL_NAME, PR_NUMBER);
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    expect(comment?.body.startsWith(MARKER)).toBe(true);
    expect(comment?.body).not.toContain(first.slice(0, 7));

    const writes = s.github.calls.filter(
      (c) => (c.method === "POST" && c.path === COMMENTS) || c.method === "PATCH",
    );
    expect(writes[0]).toMatchObject({ method: "POST", path: COMMENTS, status: 201 });
    const edits = writes.slice(1);
    expect(edits.length).toBeGreaterThan(0);
    for (const edit of edits)
      expect(edit).toMatchObject({
        method: "PATCH",
        path: `/repos/${FULL_NAME}/issues/comments/${comment?.id}`,
        status: 200,
      });
    // The path filter was decided on the files GitHub listed for the pull request.
    expect(
      s.github.calls.filter(
        (c) => c.method === "GET" && c.path === `/repos/${FULL_NAME}/pulls/${PR_NUMBER}/files`,
      ),
    ).toHaveLength(2);
  });
}

async function waitUntil(what: string, check: () => boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
