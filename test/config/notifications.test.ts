/** `notifications:` in the config: defaults, and every mistake reported at its file:line:col. */
import { describe, expect, it } from "vitest";
import { formatConfigError, parseConfig } from "../../src/config/load-config.ts";

const BASE = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: npm test
notifications:
`;
const errorsOf = (notifications: string): string[] => {
  const result = parseConfig(BASE + notifications, "deploy.config.yaml");
  return result.ok ? [] : result.errors.map(formatConfigError);
};

describe("notifications config", () => {
  it("accepts both channels and defaults on to [failed, error]", () => {
    const result = parseConfig(
      `${BASE}  - name: team-chat
    slack: SLACK_WEBHOOK_URL
    pipelines: ['deploy-*']
  - name: audit
    webhook:
      url: https://audit.example.com/deploy-bot
      secret: AUDIT_WEBHOOK_SECRET
    on: [started, succeeded, failed, error]
    environments: [production]
    repos: [acme/*]
    branches: [main, 'release/**']
`,
      "f",
    );
    expect(result.ok && result.config.notifications).toEqual([
      { name: "team-chat", slack: "SLACK_WEBHOOK_URL", on: ["failed", "error"], pipelines: ["deploy-*"] },
      {
        name: "audit",
        webhook: { url: "https://audit.example.com/deploy-bot", secret: "AUDIT_WEBHOOK_SECRET" },
        on: ["started", "succeeded", "failed", "error"],
        environments: ["production"],
        repos: ["acme/*"],
        branches: ["main", "release/**"],
      },
    ]);
  });

  it("is optional: no notifications by default", () => {
    const result = parseConfig(BASE.replace("notifications:\n", ""), "f");
    expect(result.ok && result.config.notifications).toEqual([]);
  });

  it.each([
    [
      "an unknown outcome",
      "  - name: a\n    slack: URL\n    on: [failed, exploded]\n",
      [
        'deploy.config.yaml:10:18: notifications[0].on[1]: "exploded" is not one of started, succeeded, failed, error',
      ],
    ],
    [
      "an empty on",
      "  - name: a\n    slack: URL\n    on: []\n",
      ["deploy.config.yaml:10:9: notifications[0].on: must not be empty"],
    ],
    [
      "a bad glob",
      "  - name: a\n    slack: URL\n    branches: ['release/[']\n",
      ['deploy.config.yaml:10:15: notifications[0].branches: unclosed "[" in pattern "release/["'],
    ],
    [
      "only negated globs",
      "  - name: a\n    slack: URL\n    repos: ['!acme/*']\n",
      [
        'deploy.config.yaml:10:12: notifications[0].repos: a list of only "!" patterns matches nothing: put a positive pattern such as "**" first',
      ],
    ],
    [
      "a slack channel naming something that is not a variable name",
      "  - name: a\n    slack: https://hooks.slack.com/services/T0/B0/XYZ\n",
      ["deploy.config.yaml:9:12: notifications[0].slack: not a valid environment variable name"],
    ],
    [
      "a webhook secret that is not a variable name",
      "  - name: a\n    webhook: { url: 'https://x.example', secret: 'whsec_abc=' }\n",
      ["deploy.config.yaml:9:50: notifications[0].webhook.secret: not a valid environment variable name"],
    ],
    [
      "a webhook URL that is not http(s)",
      "  - name: a\n    webhook: { url: 'file:///etc/passwd', secret: S }\n",
      ["deploy.config.yaml:9:21: notifications[0].webhook.url: must be an http(s) URL"],
    ],
    [
      "a webhook without a secret",
      "  - name: a\n    webhook: { url: 'https://x.example' }\n",
      ['deploy.config.yaml:9:14: notifications[0].webhook: missing required key "secret"'],
    ],
    [
      "neither channel",
      "  - name: a\n",
      ["deploy.config.yaml:8:5: notifications[0]: give exactly one of slack or webhook"],
    ],
    [
      "both channels",
      "  - name: a\n    slack: A\n    webhook: { url: 'https://x.example', secret: B }\n",
      ["deploy.config.yaml:8:5: notifications[0]: give exactly one of slack or webhook"],
    ],
    [
      "a duplicate name",
      "  - name: a\n    slack: A\n  - name: a\n    slack: B\n",
      ['deploy.config.yaml:10:11: notifications[1].name: duplicate notification name "a"'],
    ],
    [
      "an injected name",
      '  - name: "a;rm -rf /"\n    slack: A\n',
      ["deploy.config.yaml:8:11: notifications[0].name: use letters, digits, '.', '_' and '-' only"],
    ],
    [
      "a misspelt key",
      "  - name: a\n    slack: A\n    pipeline: [test]\n",
      ['deploy.config.yaml:10:5: unknown key "pipeline" in notifications[0] (did you mean "pipelines"?)'],
    ],
    ["not a list", "  name: a\n", ["deploy.config.yaml:8:3: notifications: expected a list, got a mapping"]],
  ])("%s", (_title, notifications, expected) => {
    expect(errorsOf(notifications)).toEqual(expected);
  });

  it("an oversized config of many notifications is still checked whole", () => {
    const many = Array.from(
      { length: 500 },
      (_, i) => `  - name: n${i}\n    slack: V${i}\n    on: [nope]\n`,
    ).join("");
    expect(errorsOf(many)).toHaveLength(500);
  });
});
