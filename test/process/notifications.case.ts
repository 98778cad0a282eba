/**
 * Process suite, notifications: the real server sends Slack-shaped POSTs and signed webhooks to receivers on
 * 127.0.0.1 (their URLs and secrets in the server's environment), retries 5xx, never retries a 400, filters
 * exclude what they should, and a `kill -9` while a notification is pending neither loses nor duplicates it.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import { type HttpReceiver, startReceiver } from "../helpers/http-receiver.ts";
import { waitFor } from "./bot-process.ts";
import { FULL_NAME, withScenario } from "./scenario.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const TEST_TOKEN = "tok-5ea1c0ffee99";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withReceivers(
  scripts: Record<string, Parameters<typeof startReceiver>[0]>,
  body: (r: Record<string, HttpReceiver>) => Promise<void>,
): Promise<void> {
  const started: Record<string, HttpReceiver> = {};
  try {
    for (const [name, script] of Object.entries(scripts))
      started[name] = await startReceiver(script, `/services/T0/B0/${name}-SECRETPATH`);
    await body(started);
  } finally {
    for (const receiver of Object.values(started)) await receiver.close();
  }
}

const failingConfig = (audit: string, refused: string) => `version: 1
pipelines:
  test:
    secrets: [TEST_TOKEN]
    steps:
      - name: Unit tests
        run: echo "using $TEST_TOKEN" && echo "<!channel> 1 test failed" && exit 3
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: echo deployed
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
notifications:
  - name: team-chat
    slack: SLACK_WEBHOOK_URL
    branches: [main]
  - name: deploys-only
    slack: DEPLOYS_SLACK_URL
    pipelines: [deploy]
  - name: audit
    webhook: { url: ${JSON.stringify(audit)}, secret: AUDIT_WEBHOOK_SECRET }
    on: [failed]
  - name: refused
    webhook: { url: ${JSON.stringify(refused)}, secret: AUDIT_WEBHOOK_SECRET }
`;

/** A failing test: one Slack message (after a 500), one signed webhook (after 503 twice), a 400 not retried. */
export async function failingTestNotifies(): Promise<void> {
  await withReceivers(
    {
      chat: [{ status: 500 }, { status: 200 }],
      deploys: [{ status: 200 }],
      audit: [{ status: 503 }, { status: 503 }, { status: 200 }],
      refused: [{ status: 400, body: "no such hook" }],
    },
    async (r) => {
      const env = {
        SLACK_WEBHOOK_URL: r.chat!.url,
        DEPLOYS_SLACK_URL: r.deploys!.url,
        AUDIT_WEBHOOK_SECRET: SECRET,
        TEST_TOKEN,
      };
      await withScenario({ configYaml: failingConfig(r.audit!.url, r.refused!.url), env }, async (s) => {
        const sha = await s.work.commit({ "src/app.txt": "broken" });
        await s.work.push("main");
        // A hostile sender login (GitHub's are tame, but the payload is what arrives): shown, never pinging.
        const payload = s.pushPayload(sha);
        (payload.sender as Record<string, unknown>).login = `<!here> *boss* ${"x".repeat(5_000)}`;
        expect((await s.bot.send("push", payload)).text).toBe("accepted: 2 runs queued\n");
        await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"], 50_000);

        await waitFor("the Slack message, after a 500", () => r.chat!.requests.length >= 2, 20_000);
        const [first, second] = r.chat!.requests;
        expect(second!.body).toBe(first!.body);
        const slack = JSON.parse(second!.body);
        expect(slack.text).toBe(`:x: ${FULL_NAME}: test failed at ${sha.slice(0, 7)}`);
        const shown = JSON.stringify(slack.blocks);
        expect(shown).toContain(`/${FULL_NAME}/commit/${sha}|`);
        expect(shown).toContain("Failed: Unit tests exited with 3");
        expect(shown).toContain("using ***"); // the step's secret, masked in the log tail
        expect(shown).not.toContain(TEST_TOKEN);
        expect(shown).not.toContain("<!channel>"); // the log cannot ping the channel
        expect(shown).toContain("&lt;!channel&gt; 1 test failed");
        expect(shown).toContain(`${s.env.PUBLIC_URL}/runs/`);
        expect(shown).not.toContain("<!here>");
        expect(shown).toContain("push by &lt;!here&gt; \u200b*\u200bboss\u200b*\u200b xxx");
        expect(shown).not.toContain("x".repeat(200)); // cut to fit Slack's limits

        await waitFor("the webhook, after 503 twice", () => r.audit!.requests.length >= 3, 30_000);
        const ids = new Set(r.audit!.requests.map((request) => request.headers["webhook-id"]));
        expect(ids.size).toBe(1);
        for (const request of r.audit!.requests) new Webhook(SECRET).verify(request.body, request.headers);
        const envelope = JSON.parse(r.audit!.requests[2]!.body);
        expect(envelope).toMatchObject({
          type: "run.failed",
          data: {
            run: { repository: FULL_NAME, pipeline: "test", state: "failed", sha, ref: "refs/heads/main" },
          },
        });
        expect(r.audit!.requests[2]!.body).not.toContain(TEST_TOKEN);

        // Nothing more comes: the 400 was not retried, the deploy (skipped) and started runs match nothing.
        await sleep(3_000);
        expect(r.refused!.requests).toHaveLength(1);
        expect(r.chat!.requests).toHaveLength(2);
        expect(r.audit!.requests).toHaveLength(3);
        expect(r.deploys!.requests).toHaveLength(0);
        const output = s.bot.output();
        expect(output).toContain("notification refused by the receiver: not retried");
        expect(output).not.toContain("SECRETPATH");
        expect((await s.bot.get("/metrics")).text).toMatch(
          /deploybot_notifications_total\{channel="webhook",outcome="retry"\} 2/,
        );
      });
    },
  );
}

const deployConfig = `version: 1
pipelines:
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: echo deployed
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [deploy]
notifications:
  - name: team-chat
    slack: SLACK_WEBHOOK_URL
    on: [succeeded]
`;

/** A successful deploy's message is pending (503) when the bot is killed: after a restart it arrives once. */
export async function notificationSurvivesKill(): Promise<void> {
  await withReceivers({ chat: [{ status: 503 }, { status: 200 }] }, async (r) => {
    await withScenario({ configYaml: deployConfig, env: { SLACK_WEBHOOK_URL: r.chat!.url } }, async (s) => {
      const sha = await s.work.commit({ "src/app.txt": "v2" });
      await s.work.push("main");
      await s.bot.send("push", s.pushPayload(sha));
      await s.finalStatuses(sha, ["deploy-bot/deploy"], 50_000);
      await waitFor("the first attempt", () => r.chat!.requests.length >= 1, 20_000);
      await s.bot.kill9();
      expect(r.chat!.requests).toHaveLength(1);

      await s.restart();
      await waitFor("the message, after the restart", () => r.chat!.requests.length >= 2, 20_000);
      const slack = JSON.parse(r.chat!.requests[1]!.body);
      expect(slack.text).toBe(
        `:white_check_mark: ${FULL_NAME}: deploy to production succeeded at ${sha.slice(0, 7)}`,
      );
      const fields = slack.blocks[0].fields.map((field: { text: string }) => field.text);
      expect(fields).toEqual([
        `*Repository*\n${FULL_NAME}`,
        "*Pipeline*\ndeploy",
        "*Environment*\nproduction",
        "*Outcome*\n:white_check_mark: succeeded",
        expect.stringMatching(
          new RegExp(`^\\*Commit\\*\\n<http://.+/${FULL_NAME}/commit/${sha}\\|\`${sha.slice(0, 7)}\`>$`),
        ),
        "*Branch*\nmain",
        expect.stringMatching(/^\*Duration\*\n\d+(ms|s)$/),
        expect.stringMatching(/^\*Triggered by\*\npush by /),
      ]);
      expect(JSON.stringify(slack.blocks)).toContain(`${s.env.PUBLIC_URL}/runs/`);
      // Delivered once: nothing more after the 200.
      await sleep(3_000);
      expect(r.chat!.requests).toHaveLength(2);
    });
  });
}
