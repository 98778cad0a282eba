import { describe, expect, it } from "vitest";
import { isIgnored } from "../../src/events/deploy-event.ts";
import { normaliseComment } from "../../src/events/normalise-comment.ts";
import { issueCommentPayload } from "../helpers/webhooks.ts";

const keep = () => {};
const payload = (overrides: Parameters<typeof issueCommentPayload>[1]) =>
  issueCommentPayload(keep, overrides);

describe("normaliseComment", () => {
  it("turns a command on a pull request into a typed command", () => {
    const result = normaliseComment(
      "d-1",
      payload({
        body: "/deploy-bot deploy staging",
        number: 2,
        pullRequest: true,
        commentId: 55,
        login: "alice",
      }),
    );
    expect(result).toMatchObject({
      deliveryId: "d-1",
      installationId: expect.any(Number),
      sender: "alice",
      commentId: 55,
      issueNumber: 2,
      onPullRequest: true,
      text: "/deploy-bot deploy staging",
      parsed: { command: { name: "deploy", environment: "staging", ref: undefined } },
    });
  });

  it("keeps a refusal with what the command line was", () => {
    const result = normaliseComment(
      "d-2",
      payload({ body: "/deploy-bot launch", number: 9, pullRequest: false }),
    );
    expect(result).toMatchObject({ onPullRequest: false, parsed: { refused: 'unknown command "launch"' } });
  });

  it.each([
    ["an edited comment", { action: "edited" }, "comment edited: only new comments are commands"],
    ["a deleted comment", { action: "deleted" }, "comment deleted: only new comments are commands"],
    [
      "the bot's own comment",
      { login: "deploy-bot[bot]", userType: "Bot" },
      "comments by bots (this one included) are never commands",
    ],
    [
      "another bot's comment",
      { login: "dependabot[bot]", userType: "Bot" },
      "comments by bots (this one included) are never commands",
    ],
    [
      "a bot login posing as a user",
      { login: "evil[bot]" },
      "comments by bots (this one included) are never commands",
    ],
    ["a comment that is not a command", { body: "LGTM" }, "the first line is not a /deploy-bot command"],
  ])("ignores %s", (_what, overrides, reason) => {
    const result = normaliseComment(
      "d-3",
      payload({ body: "/deploy-bot deploy staging", number: 2, pullRequest: true, ...overrides }),
    );
    expect(result).toEqual({ ignored: true, reason });
  });

  it.each([
    ["no issue", (p: Record<string, unknown>) => delete p.issue],
    [
      "a string comment id",
      (p: Record<string, unknown>) => ((p.comment as Record<string, unknown>).id = "1"),
    ],
    [
      "a login with a newline",
      (p: Record<string, unknown>) =>
        (((p.comment as Record<string, unknown>).user as Record<string, unknown>).login = "a\nb"),
    ],
    [
      "a clone URL with credentials",
      (p: Record<string, unknown>) =>
        ((p.repository as Record<string, unknown>).clone_url = "https://x:y@github.com/a/b.git"),
    ],
    ["no repository", (p: Record<string, unknown>) => delete p.repository],
  ])("ignores a malformed payload: %s", (_what, spoil) => {
    const p = payload({ body: "/deploy-bot retry", number: 2, pullRequest: true });
    spoil(p);
    const result = normaliseComment("d-4", p);
    expect(isIgnored(result)).toBe(true);
    expect(isIgnored(result) && result.reason).toMatch(/^malformed payload: /);
  });

  it("ignores a payload that is not an object", () => {
    expect(normaliseComment("d-5", "nope")).toEqual({
      ignored: true,
      reason: "malformed payload: the payload is not a JSON object",
    });
  });
});
