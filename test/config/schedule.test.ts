/** `on.schedule`: accepted shapes, and every way to get it wrong, with the exact message and position. */
import { describe, expect, it } from "vitest";
import { formatConfigError, parseConfig } from "../../src/config/load-config.ts";

const config = (rule: string) => `version: 1
pipelines:
  sync:
    steps:
      - name: Apply
        run: kubectl apply -f .
rules:
${rule}`;

const errorsOf = (text: string): string[] => {
  const result = parseConfig(text, "deploy.config.yaml");
  return result.ok ? [] : result.errors.map(formatConfigError);
};

describe("on.schedule", () => {
  it("accepts cron entries with and without a branch", () => {
    const result = parseConfig(
      config(`  - name: reconcile
    repos: [acme/infra, acme/other]
    on:
      schedule:
        - cron: '*/15 * * * *'
          branch: main
        - cron: '0 3 * * 1-5'
    run: [sync]
`),
      "f",
    );
    expect(result.ok && result.config.rules[0]?.on).toEqual({
      schedule: [{ cron: "*/15 * * * *", branch: "main" }, { cron: "0 3 * * 1-5" }],
    });
  });

  it.each([
    [
      "a minute out of range",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '61 * * * *'
    run: [sync]
`,
      [
        'deploy.config.yaml:12:17: rules[0].on.schedule[0].cron: invalid cron expression "61 * * * *": Constraint error, got value 61 expected range 0-59',
      ],
    ],
    [
      "six fields (seconds)",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '0 */5 * * * *'
    run: [sync]
`,
      [
        'deploy.config.yaml:12:17: rules[0].on.schedule[0].cron: invalid cron expression "0 */5 * * * *": use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"',
      ],
    ],
    [
      "garbage",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: 'every day at noon'
    run: [sync]
`,
      [
        'deploy.config.yaml:12:17: rules[0].on.schedule[0].cron: invalid cron expression "every day at noon": use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"',
      ],
    ],
    [
      "an impossible date",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '0 0 31 2 *'
    run: [sync]
`,
      [
        'deploy.config.yaml:12:17: rules[0].on.schedule[0].cron: invalid cron expression "0 0 31 2 *": Invalid explicit day of month definition',
      ],
    ],
    [
      "no repos",
      `  - name: r
    on:
      schedule:
        - cron: '* * * * *'
    run: [sync]
`,
      [
        "deploy.config.yaml:11:9: rules[0].on.schedule: a rule with a schedule needs repos: [owner/name, ...]",
      ],
    ],
    [
      "a glob in repos",
      `  - name: r
    repos: [acme/infra, 'acme/*']
    on:
      schedule:
        - cron: '* * * * *'
    run: [sync]
`,
      [
        'deploy.config.yaml:9:25: rules[0].repos[1]: a rule with a schedule names each repository as owner/name, not a pattern: "acme/*"',
      ],
    ],
    [
      "an empty list",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule: []
    run: [sync]
`,
      ["deploy.config.yaml:11:17: rules[0].on.schedule: give at least one cron entry"],
    ],
    [
      "a hostile branch name",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '* * * * *'
          branch: '--upload-pack=evil'
    run: [sync]
`,
      ["deploy.config.yaml:13:19: rules[0].on.schedule[0].branch: not a valid branch name"],
    ],
    [
      "an unknown key",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '* * * * *'
          timezone: Europe/Paris
    run: [sync]
`,
      ['deploy.config.yaml:13:11: unknown key "timezone" in rules[0].on.schedule[0]'],
    ],
    [
      "a cron that is not a string",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: 5
    run: [sync]
`,
      ["deploy.config.yaml:12:17: rules[0].on.schedule[0].cron: expected a string, got the number 5"],
    ],
    [
      "a mapping instead of a list",
      `  - name: r
    repos: [acme/infra]
    on:
      schedule:
        cron: '* * * * *'
    run: [sync]
`,
      ["deploy.config.yaml:12:9: rules[0].on.schedule: expected a list, got a mapping"],
    ],
  ])("refuses %s", (_name, rule, errors) => {
    expect(errorsOf(config(rule))).toEqual(errors);
  });

  it("refuses an oversized cron expression without hanging", () => {
    const started = Date.now();
    const errors = errorsOf(
      config(`  - name: r
    repos: [acme/infra]
    on:
      schedule:
        - cron: '${"1,".repeat(20_000)}1 * * * *'
    run: [sync]
`),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^deploy\.config\.yaml:12:17: rules\[0\]\.on\.schedule\[0\]\.cron: invalid cron expression/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
