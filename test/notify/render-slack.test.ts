import { describe, expect, it } from "vitest";
import { type NotificationContext, notificationRun } from "../../src/notify/notification-run.ts";
import { renderSlack, slackText } from "../../src/notify/render-slack.ts";
import { at, prEvent, pushEvent, run, SHA, testSteps } from "../report/fixtures.ts";

const context: NotificationContext = {
  publicUrl: "https://bot.example.com",
  githubWebUrl: "https://github.com",
  mask: (text) => text.replaceAll("hunter2-secret", "***"),
};
const Z = "\u200b";

const failedDeploy = run({
  id: "r1",
  pipeline: "deploy-production",
  environment: "production",
  state: "failed",
  detail: "Unit tests exited with 1",
  startedAt: at(0),
  finishedAt: at(72),
  steps: testSteps(["passed", "failed", "pending"]),
});

describe("renderSlack", () => {
  it("renders a failed deploy: headline, fields, description, log tail and the run link", () => {
    const view = notificationRun(failedDeploy, "failed", context, [
      "npm ERR! token hunter2-secret",
      "exit 1",
    ]);
    expect(renderSlack(view)).toEqual({
      text: ":x: acme/app: deploy-production to production failed at 1a2b3c4",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: ":x: *deploy-production* to production failed on acme/app at `1a2b3c4`",
          },
          fields: [
            { type: "mrkdwn", text: "*Repository*\nacme/app" },
            { type: "mrkdwn", text: "*Pipeline*\ndeploy-production" },
            { type: "mrkdwn", text: "*Environment*\nproduction" },
            { type: "mrkdwn", text: "*Outcome*\n:x: failed" },
            { type: "mrkdwn", text: `*Commit*\n<https://github.com/acme/app/commit/${SHA}|\`1a2b3c4\`>` },
            { type: "mrkdwn", text: "*Branch*\nmain" },
            { type: "mrkdwn", text: "*Duration*\n1m 12s" },
            { type: "mrkdwn", text: "*Triggered by*\npush by alice" },
          ],
        },
        { type: "section", text: { type: "mrkdwn", text: "Failed: Unit tests exited with 1" } },
        { type: "section", text: { type: "mrkdwn", text: "```\nnpm ERR! token ***\nexit 1\n```" } },
        {
          type: "context",
          elements: [{ type: "mrkdwn", text: "<https://bot.example.com/runs/r1|View the run>" }],
        },
      ],
    });
  });

  it("renders a started PR run without an environment, a duration or a run link", () => {
    const started = run({ id: "r2", state: "running", startedAt: at(0), event: prEvent() });
    const message = renderSlack(notificationRun(started, "started", { ...context, publicUrl: undefined }));
    expect(message.text).toBe(":arrow_forward: acme/app: test started at 1a2b3c4");
    expect(message.blocks).toEqual([
      {
        type: "section",
        text: { type: "mrkdwn", text: ":arrow_forward: *test* started on acme/app at `1a2b3c4`" },
        fields: [
          { type: "mrkdwn", text: "*Repository*\nacme/app" },
          { type: "mrkdwn", text: "*Pipeline*\ntest" },
          { type: "mrkdwn", text: "*Environment*\nnone" },
          { type: "mrkdwn", text: "*Outcome*\n:arrow_forward: started" },
          { type: "mrkdwn", text: `*Commit*\n<https://github.com/acme/app/commit/${SHA}|\`1a2b3c4\`>` },
          { type: "mrkdwn", text: "*Pull request*\n<https://github.com/acme/app/pull/7|#7> feature" },
          { type: "mrkdwn", text: "*Duration*\nnot started" },
          { type: "mrkdwn", text: "*Triggered by*\npull request #7 by alice" },
        ],
      },
      { type: "section", text: { type: "mrkdwn", text: "Running" } },
    ]);
  });

  it("names a tag push's tag, the error emoji, and the environment URL a step reported", () => {
    const tagRun = {
      ...run({
        id: "r3",
        state: "error",
        detail: "Checkout failed: no such ref",
        environment: "staging",
        event: pushEvent({ branch: undefined, tag: "v1.2.0", ref: "refs/tags/v1.2.0" }),
      }),
      environmentUrl: "https://staging.example.com/a|b",
    };
    const message = renderSlack(notificationRun(tagRun, "error", context));
    expect(message.text).toBe(":warning: acme/app: test to staging could not run at 1a2b3c4");
    const fields = message.blocks[0]?.type === "section" ? message.blocks[0].fields : [];
    expect(fields?.map((f) => f.text)).toContain("*Tag*\nv1.2.0");
    expect(fields?.map((f) => f.text)).toContain("*Triggered by*\npush of tag v1.2.0 by alice");
    expect(fields?.at(-1)?.text).toBe(
      "*Environment URL*\n<https://staging.example.com/a%7Cb|https://staging.example.com/a|b>",
    );
    expect(message.blocks[1]).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: "Checkout failed: no such ref" },
    });
  });
});

describe("hostile text cannot ping, format or break the message", () => {
  it.each([
    ["<!channel>", "&lt;!channel&gt;"],
    ["<!here|here>", "&lt;!here|here&gt;"],
    ["<@U0123ABC>", `&lt;@${Z}U0123ABC&gt;`],
    ["@channel", `@${Z}channel`],
    ["<https://evil.example|click me>", "&lt;https://evil.example|click me&gt;"],
    ["a & b", "a &amp; b"],
    ["&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"],
    [
      "*bold* _it_ ~no~ `code`",
      `${Z}*${Z}bold${Z}*${Z} ${Z}_${Z}it${Z}_${Z} ${Z}~${Z}no${Z}~${Z} ${Z}\`${Z}code${Z}\`${Z}`,
    ],
    ["line\none\r\n> quote", "line one &gt; quote"],
  ])("%j", (input, expected) => {
    expect(slackText(input)).toBe(expected);
  });

  it("a branch named like a mention stays text in every place it appears", () => {
    const hostile = run({
      id: "r4",
      state: "failed",
      detail: "<!channel> exited with 1",
      event: pushEvent({ branch: "<!channel>", sender: "<@U999>" }),
    });
    const body = JSON.stringify(
      renderSlack(notificationRun(hostile, "failed", context, ["```", "<!here> done"])),
    );
    expect(body).not.toMatch(/<!(channel|here)/);
    expect(body).not.toContain("<@U");
    expect(body).toContain("&lt;!channel&gt;");
    // The log cannot close its code block early.
    expect(body).toContain(`\`${Z}\`${Z}\`${Z}\\n&lt;!here&gt; done`);
  });

  it("oversized names are cut to fit Slack's limits", () => {
    const long = "x".repeat(10_000);
    const huge = run({
      id: "r5",
      pipeline: long,
      state: "failed",
      detail: long,
      event: pushEvent({ branch: long }),
    });
    const message = renderSlack(notificationRun(huge, "failed", context, [long, long]));
    for (const block of message.blocks) {
      if (block.type !== "section") continue;
      expect(block.text.text.length).toBeLessThanOrEqual(3000);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
    }
    expect(message.text.length).toBeLessThan(1000);
  });

  it("secrets are masked everywhere, as in logs", () => {
    const leaky = run({
      id: "r6",
      state: "failed",
      detail: "curl -H hunter2-secret failed",
      event: pushEvent({ branch: "hunter2-secret" }),
    });
    const body = JSON.stringify(
      renderSlack(notificationRun(leaky, "failed", context, ["token=hunter2-secret"])),
    );
    expect(body).not.toContain("hunter2");
    expect(body).toContain("token=***");
  });
});
