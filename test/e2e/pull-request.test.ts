/**
 * End to end, pull requests: signed webhooks → the real server → `refs/pull/2/head` of a real git remote →
 * real processes → commit statuses and the one living PR comment on a faked GitHub API (nock).
 */
import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/runs/run.ts";
import {
  checkContext,
  FIRST_RUNNABLE,
  type Harness,
  OWNER,
  PASSED,
  PR_NUMBER,
  PUBLIC_URL,
  withHarness,
} from "./harness.ts";

const MARKER = "<!-- deploy-bot:pr-comment -->";
const comments = (h: Harness) => `/repos/${OWNER}/${h.repo}/issues/${PR_NUMBER}/comments`;

const config = (testCommand: string) => `
version: 1
pipelines:
  test:
    steps:
      - name: Install
        # 5 s: long enough that build's "Waiting for test" reaches GitHub first, behind the write limit and the other
        # delivery's reports on a loaded machine (reports coalesce: a state gone by before its write is not sent).
        run: sleep 5; echo "installing"
      - name: Unit tests
        run: ${JSON.stringify(testCommand)}
  build:
    steps:
      - name: Build
        run: echo "building $DEPLOYBOT_SHA for PR $DEPLOYBOT_PR_NUMBER"
rules:
  - name: check pull requests
    on:
      pull_request:
        branches: [main]
    run: [test, build]
`;

/** The comment row of a run: `| <pipeline> | <emoji> <status> | <duration> | [details](<run page>) |`. */
const row = (run: RunRecord, status: string) =>
  new RegExp(
    `^\\| ${run.pipeline} \\| ${status} \\| [^|]+ \\| \\[details\\]\\(${PUBLIC_URL.replace(/\./g, "\\.")}/runs/${run.id}\\) \\|$`,
    "m",
  );

async function deliver(h: Harness, action: "opened" | "synchronize", sha: string): Promise<RunRecord[]> {
  const answer = await h.send("pull_request", h.prPayload(action, sha));
  expect(answer.status).toBe(202);
  const runs = await h.waitForRuns(answer.id, 2);
  await h.waitForFinalStatuses(runs);
  return runs;
}

describe.concurrent("e2e: pull request", () => {
  it("opened then synchronize: one comment created, then edited in place to show the new head", async () => {
    await withHarness({ comments: true, configYaml: config("echo unit tests pass") }, async (h) => {
      const shaA = await h.commitPullRequest({ "app.txt": "v1\n" });
      const [testA, buildA] = await deliver(h, "opened", shaA);
      const shaB = await h.commitPullRequest({ "app.txt": "v2\n" });
      const [testB, buildB] = await deliver(h, "synchronize", shaB);
      if (!testA || !buildA || !testB || !buildB) throw new Error("two runs per delivery expected");
      expect([testA, buildA, testB, buildB].map((r) => `${r.pipeline}:${r.state}`)).toEqual([
        "test:passed",
        "build:passed",
        "test:passed",
        "build:passed",
      ]);
      expect(buildB.event.sha).toBe(shaB);

      // Statuses for each head.
      for (const [test, build] of [
        [testA, buildA],
        [testB, buildB],
      ] as const) {
        checkContext(h.github, {
          run: test,
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "success", description: PASSED },
        });
        checkContext(h.github, {
          run: build,
          first: { state: "pending", description: "Waiting for test" },
          last: { state: "success", description: PASSED },
        });
      }

      // Exactly one comment created; every later write edits that same comment.
      const commentCalls = h.github.calls.filter(
        (c) => c.path.startsWith(comments(h)) || c.path.includes("/issues/comments/"),
      );
      const posts = commentCalls.filter((c) => c.method === "POST");
      expect(posts).toHaveLength(1);
      expect([...h.github.comments.keys()]).toHaveLength(1);
      const [id] = [...h.github.comments.keys()];
      const patches = commentCalls.filter((c) => c.method === "PATCH");
      expect(patches.length).toBeGreaterThanOrEqual(1);
      for (const patch of patches) expect(patch.path).toBe(`/repos/${OWNER}/${h.repo}/issues/comments/${id}`);
      expect(commentCalls.findIndex((c) => c.method === "POST")).toBeLessThan(
        commentCalls.findIndex((c) => c.method === "PATCH"),
      );
      expect(commentCalls.length).toBeLessThanOrEqual(10); // a handful per delivery, not one per log line
      for (const call of [...posts, ...patches])
        expect(JSON.parse(call.body).body.startsWith(MARKER)).toBe(true);

      // The final body: the new head, a row per pipeline of the new head's runs.
      const body = h.github.comments.get(id as number) as string;
      expect(body.startsWith(`${MARKER}\n`)).toBe(true);
      expect(body).toContain(`\`${shaB.slice(0, 7)}\``);
      expect(body).not.toContain(shaA.slice(0, 7));
      expect(body).toMatch(row(testB, "✅ Passed in \\d+(ms|s)"));
      expect(body).toMatch(row(buildB, "✅ Passed in \\d+(ms|s)"));
      expect(body).not.toContain(testA.id);
      expect(body).not.toContain("<details>");

      const page = await h.get(`/runs/${buildB.id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain("Build");
      expect(page.text).toContain(`building ${shaB} for PR ${PR_NUMBER}`);
    });
  });

  it("a failing test fails its check, skips the dependent pipeline and puts the log tail in the comment", async () => {
    await withHarness(
      {
        comments: true,
        configYaml: config(
          `for i in $(seq 1 40); do printf 'log line %02d\\n' "$i"; done; echo "FAIL expected 2 got 3"; exit 1`,
        ),
      },
      async (h) => {
        const sha = await h.commitPullRequest({ "app.txt": "broken\n" });
        const [test, build] = await deliver(h, "opened", sha);
        if (!test || !build) throw new Error("two runs expected");
        expect([test.state, build.state]).toEqual(["failed", "skipped"]);

        checkContext(h.github, {
          run: test,
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "failure", description: "Failed: Unit tests exited with 1" },
        });
        checkContext(h.github, {
          run: build,
          first: { state: "pending", description: "Waiting for test" },
          last: { state: "error", description: "Skipped: test failed" },
        });

        const posts = h.github.calls.filter((c) => c.method === "POST" && c.path === comments(h));
        expect(posts).toHaveLength(1);
        const [id] = [...h.github.comments.keys()];
        for (const patch of h.github.calls.filter((c) => c.method === "PATCH"))
          expect(patch.path).toBe(`/repos/${OWNER}/${h.repo}/issues/comments/${id}`);
        const body = h.github.comments.get(id as number) as string;
        expect(body).toContain(`\`${sha.slice(0, 7)}\``);
        expect(body).toMatch(row(test, "❌ Failed: Unit tests exited with 1"));
        expect(body).toMatch(row(build, "⏭️ Skipped: test failed"));
        // The failing step's tail, collapsed: the last lines are there, the early ones are not.
        const details =
          /<details><summary>❌ test: last \d+ lines of Unit tests<\/summary>\n\n(`{3,})text\n([\s\S]*?)\n\1\n\n<\/details>/.exec(
            body,
          );
        expect(details, body).not.toBeNull();
        const tail = details?.[2] ?? "";
        expect(tail).toContain("FAIL expected 2 got 3");
        expect(tail).toContain("log line 40");
        expect(tail).not.toContain("log line 05");
        expect(tail).not.toContain("installing"); // the tail is the failing step's, not the whole run's

        const page = await h.get(`/runs/${test.id}`);
        expect(page.status).toBe(200);
        expect(page.text).toContain("Unit tests");
        expect(page.text).toContain("FAIL expected 2 got 3");
        expect(page.text).toContain("log line 05");
      },
    );
  });
});
