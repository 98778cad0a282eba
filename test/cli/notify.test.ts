/** `deploy-bot notify test <name>`: one sample notification through the configured channel, to real receivers. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { type Answer, type HttpReceiver, startReceiver } from "../helpers/http-receiver.ts";
import { runCli } from "./run-cli.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const receivers: HttpReceiver[] = [];
const receiver = async (script: Answer[], path = "/services/T0/B0/SECRETPATH") => {
  const started = await startReceiver(script, path);
  receivers.push(started);
  return started;
};
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

const configFile = (webhookUrl = "http://127.0.0.1:9/hook") => {
  const dir = mkdtempSync(join(tmpdir(), "deploy-bot-notify-"));
  const file = join(dir, "deploy.config.yaml");
  writeFileSync(
    file,
    `version: 1
pipelines:
  test:
    steps: [{ name: t, run: "true" }]
  deploy-production:
    environment: production
    steps: [{ name: d, run: "true" }]
notifications:
  - name: team-chat
    slack: SLACK_WEBHOOK_URL
    pipelines: ['deploy-*']
  - name: audit
    webhook: { url: ${JSON.stringify(webhookUrl)}, secret: AUDIT_WEBHOOK_SECRET }
    on: [succeeded]
`,
  );
  return file;
};

describe("deploy-bot notify test", () => {
  it("sends a sample Slack message and prints the answer, without the URL's secret path", async () => {
    const slack = await receiver([{ status: 200, body: "ok" }]);
    const result = await runCli(["notify", "test", "team-chat", "--config", configFile()], {
      SLACK_WEBHOOK_URL: slack.url,
    });
    expect(result).toEqual({
      code: 0,
      stdout: `team-chat (slack, ${new URL(slack.url).origin}/…): sent a sample "failed" notification: HTTP 200: ok\n`,
      stderr: "",
    });
    expect(slack.requests).toHaveLength(1);
    const body = JSON.parse(slack.requests[0]!.body);
    expect(body.text).toBe(":x: example/repository: deploy-production to production failed at 0123456");
    expect(body.blocks.length).toBeGreaterThan(1);
  });

  it("sends a sample signed webhook a Standard Webhooks verifier accepts", async () => {
    const hook = await receiver([{ status: 202, body: "" }], "/hook");
    const result = await runCli(["notify", "test", "audit", "--config", configFile(hook.url)], {
      AUDIT_WEBHOOK_SECRET: SECRET,
    });
    expect(result.stdout).toBe(
      `audit (webhook, ${new URL(hook.url).origin}/…): sent a sample "succeeded" notification: HTTP 202\n`,
    );
    expect(result.code).toBe(0);
    const request = hook.requests[0]!;
    expect(new Webhook(SECRET).verify(request.body, request.headers)).toMatchObject({
      type: "run.succeeded",
      data: { run: { pipeline: "test", state: "passed" } },
    });
  });

  it.each<[string, Answer, string]>([
    [
      "a 400",
      { status: 400, body: "invalid_payload" },
      "HTTP 400: invalid_payload (the server would not retry this)",
    ],
    ["a 503", { status: 503, body: "busy" }, "HTTP 503: busy (the server would retry this)"],
  ])("exits 1 on %s, saying whether the server would retry", async (_title, answer, message) => {
    const slack = await receiver([answer]);
    const result = await runCli(["notify", "test", "team-chat", "--config", configFile()], {
      SLACK_WEBHOOK_URL: slack.url,
    });
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `team-chat (slack, ${new URL(slack.url).origin}/…): not delivered: ${message}\n`,
    });
  });

  it("exits 1 when nothing answers", async () => {
    const slack = await receiver([{ status: 200 }]);
    await slack.close();
    const result = await runCli(["notify", "test", "team-chat", "--config", configFile()], {
      SLACK_WEBHOOK_URL: slack.url,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/: not delivered: network error: .* \(the server would retry this\)\n$/);
    expect(result.stderr).not.toContain("SECRETPATH");
  });

  it.each<[string, string[], Record<string, string>, number, string]>([
    [
      "an unknown name",
      ["notify", "test", "nope"],
      {},
      1,
      'deploy-bot: no notification named "nope" in CONFIG (notifications: team-chat, audit)\n',
    ],
    [
      "an unset variable",
      ["notify", "test", "team-chat"],
      {},
      1,
      "deploy-bot: notifications[0] (team-chat): slack: SLACK_WEBHOOK_URL is not set in the server's environment\n",
    ],
    [
      "a secret that is not whsec_",
      ["notify", "test", "audit"],
      { AUDIT_WEBHOOK_SECRET: "hunter2hunter2" },
      1,
      'deploy-bot: notifications[1] (audit): webhook.secret: AUDIT_WEBHOOK_SECRET is not a Standard Webhooks secret: it must start with "whsec_"\n',
    ],
  ])("refuses %s", async (_title, args, env, code, stderr) => {
    const file = configFile();
    const result = await runCli([...args, "--config", file], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code,
      stderr: stderr.replace("CONFIG", file),
    });
  });

  it.each([
    [["notify"]],
    [["notify", "send", "x"]],
    [["notify", "test"]],
    [["notify", "test", "a", "b"]],
    [["notify", "test", "a", "--bogus"]],
  ])("usage error for %j: exit 2", async (args) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: deploy-bot notify test <name> [--config file]");
  });
});
