import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, expect, it } from "vitest";
import { createCommentUpserter } from "../../src/report/comment-upserter.ts";

afterEach(() => nock.cleanAll());

it("serialises racing upserts for one PR: one lookup, one POST, then an edit", async () => {
  const octokit = new ProbotOctokit({
    auth: { token: "t" },
    throttle: { enabled: false },
    retry: { enabled: false },
  });
  const upserter = createCommentUpserter();
  const writes: [string, unknown][] = [];
  const scope = nock("https://api.github.com")
    .get("/repos/acme/app/issues/7/comments")
    .query({ per_page: "100" })
    .reply(200, [])
    .post("/repos/acme/app/issues/7/comments", (b) => writes.push(["POST", b.body]) > 0)
    .reply(201, { id: 5 })
    .patch("/repos/acme/app/issues/comments/5", (b) => writes.push(["PATCH", b.body]) > 0)
    .reply(200, { id: 5 });
  const pr = { owner: "acme", repo: "app", number: 7 };

  const outcomes = await Promise.all([
    upserter.upsert(octokit, pr, "<!-- deploy-bot:pr-comment -->\none"),
    upserter.upsert(octokit, pr, "<!-- deploy-bot:pr-comment -->\ntwo"),
    upserter.upsert(octokit, pr, "<!-- deploy-bot:pr-comment -->\ntwo"),
  ]);

  expect(outcomes).toEqual(["created", "updated", "unchanged"]);
  expect(writes).toEqual([
    ["POST", "<!-- deploy-bot:pr-comment -->\none"],
    ["PATCH", "<!-- deploy-bot:pr-comment -->\ntwo"],
  ]);
  expect(scope.isDone()).toBe(true);
});
