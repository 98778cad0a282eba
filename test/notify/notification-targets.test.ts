import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config/schema.ts";
import { githubWebUrl } from "../../src/notify/app-notifications.ts";
import {
  notificationSecretValues,
  resolveNotificationTargets,
} from "../../src/notify/notification-targets.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const config = ConfigSchema.parse({
  version: 1,
  pipelines: { deploy: { secrets: ["DEPLOY_TOKEN", "UNSET_TOKEN"], steps: [{ name: "d", run: "true" }] } },
  notifications: [
    { name: "chat", slack: "SLACK_URL" },
    { name: "audit", webhook: { url: "https://audit.example.com/hook", secret: "AUDIT_SECRET" } },
  ],
});

describe("resolveNotificationTargets", () => {
  it("reads each channel from the variable it names", () => {
    const result = resolveNotificationTargets(config, {
      SLACK_URL: "https://hooks.slack.com/services/T0/B0/X",
      AUDIT_SECRET: SECRET,
    });
    expect(result).toEqual({
      ok: true,
      targets: new Map([
        ["chat", { channel: "slack", url: "https://hooks.slack.com/services/T0/B0/X" }],
        ["audit", { channel: "webhook", url: "https://audit.example.com/hook", secret: SECRET }],
      ]),
    });
  });

  it.each([
    [
      "nothing set",
      {},
      [
        "notifications[0] (chat): slack: SLACK_URL is not set in the server's environment",
        "notifications[1] (audit): webhook.secret: AUDIT_SECRET is not set in the server's environment",
      ],
    ],
    [
      "empty values",
      { SLACK_URL: "  ", AUDIT_SECRET: "" },
      [
        "notifications[0] (chat): slack: SLACK_URL is not set in the server's environment",
        "notifications[1] (audit): webhook.secret: AUDIT_SECRET is not set in the server's environment",
      ],
    ],
    [
      "unusable values, never echoed",
      { SLACK_URL: "hooks.slack.com/services/secret-path", AUDIT_SECRET: "plain-shared-secret" },
      [
        "notifications[0] (chat): slack: SLACK_URL is not an http(s) URL (a Slack incoming-webhook URL)",
        'notifications[1] (audit): webhook.secret: AUDIT_SECRET is not a Standard Webhooks secret: it must start with "whsec_"',
      ],
    ],
  ])("refuses %s", (_title, env, errors) => {
    expect(resolveNotificationTargets(config, env)).toEqual({ ok: false, errors });
  });

  it("masks pipelines' secrets and the channels' own", () => {
    const env = {
      SLACK_URL: "https://hooks.slack.com/services/T0/B0/X",
      AUDIT_SECRET: SECRET,
      DEPLOY_TOKEN: "tok-1234",
    };
    const result = resolveNotificationTargets(config, env);
    if (!result.ok) throw new Error("expected targets");
    expect(notificationSecretValues(config, env, result.targets).sort()).toEqual(
      ["tok-1234", "https://hooks.slack.com/services/T0/B0/X", SECRET].sort(),
    );
  });

  it.each([
    [undefined, "https://github.com"],
    ["https://ghe.example.com/api/v3", "https://ghe.example.com"],
    ["http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080"],
  ])("the GitHub web host of API %s is %s", (api, web) => {
    expect(githubWebUrl(api)).toBe(web);
  });
});
