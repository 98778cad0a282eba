import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, expect, it } from "vitest";
import { createCommentUpserter } from "../../src/report/comment-upserter.ts";

afterEach(() => nock.cleanAll());

const octokit = () =>
  new ProbotOctokit({ auth: { token: "t" }, throttle: { enabled: false }, retry: { enabled: false } });
const pr = { owner: "acme", repo: "app", number: 7 };

it("serialises racing upserts for one PR: the second looks again and edits the first one's comment", async () => {
  const upserter = createCommentUpserter();
  const writes: [string, unknown][] = [];
  const scope = nock("https://api.github.com")
    .get("/repos/acme/app/issues/7/comments")
    .query({ per_page: "100" })
    .reply(200, [])
    .post("/repos/acme/app/issues/7/comments", (b) => writes.push(["POST", b.body]) > 0)
    .reply(201, { id: 5, body: "<!-- deploy-bot:pr-comment -->\none", user: { type: "Bot" } });
  nock("https://api.github.com")
    .get("/repos/acme/app/issues/7/comments")
    .query({ per_page: "100" })
    .reply(200, [{ id: 5, body: "<!-- deploy-bot:pr-comment -->\none", user: { type: "Bot" } }])
    .patch("/repos/acme/app/issues/comments/5", (b) => writes.push(["PATCH", b.body]) > 0)
    .reply(200, { id: 5 });

  const client = octokit();
  const outcomes = await Promise.all([
    upserter.upsert(client, pr, "<!-- deploy-bot:pr-comment -->\none"),
    upserter.upsert(client, pr, "<!-- deploy-bot:pr-comment -->\ntwo"),
  ]);

  expect(outcomes).toEqual([
    { outcome: "created", id: 5 },
    { outcome: "updated", id: 5 },
  ]);
  expect(writes).toEqual([
    ["POST", "<!-- deploy-bot:pr-comment -->\none"],
    ["PATCH", "<!-- deploy-bot:pr-comment -->\ntwo"],
  ]);
  expect(scope.isDone()).toBe(true);
  expect(nock.isDone()).toBe(true);
});

it("edits the known comment without looking it up", async () => {
  const scope = nock("https://api.github.com")
    .patch("/repos/acme/app/issues/comments/9")
    .reply(200, { id: 9 });
  expect(await createCommentUpserter().upsert(octokit(), pr, "body", 9)).toEqual({
    outcome: "updated",
    id: 9,
  });
  expect(scope.isDone()).toBe(true);
});
