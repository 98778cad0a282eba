/** `manual` and `deployers`: the config keys behind `/deploy-bot deploy`, and what `validate` says about them. */
import { describe, expect, it } from "vitest";
import { formatConfigError, parseConfig } from "../../src/config/load-config.ts";

const config = (pipeline: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: npm test
  deploy-production:
${pipeline}
    steps:
      - name: Deploy
        run: ./deploy.sh
rules:
  - name: main
    on:
      push:
    run: [test, deploy-production]
`;

const errorsOf = (text: string): string[] => {
  const result = parseConfig(text, "deploy.config.yaml");
  return result.ok ? [] : result.errors.map(formatConfigError);
};

describe("manual and deployers", () => {
  it("accepts a manual pipeline with deployers and keeps them", () => {
    const result = parseConfig(
      config("    environment: production\n    manual: true\n    deployers: [alice, bob-2]"),
      "deploy.config.yaml",
    );
    expect(result.ok && result.config.pipelines["deploy-production"]).toMatchObject({
      environment: "production",
      manual: true,
      deployers: ["alice", "bob-2"],
    });
  });

  it.each([
    [
      "manual without an environment",
      "    manual: true",
      [
        "deploy.config.yaml:8:13: pipelines.deploy-production.manual: manual needs an environment: commands deploy environments (add environment: <name>)",
      ],
    ],
    [
      "deployers without an environment",
      "    deployers: [alice]",
      [
        "deploy.config.yaml:8:16: pipelines.deploy-production.deployers: deployers needs an environment: commands deploy environments (add environment: <name>)",
      ],
    ],
    [
      "manual that is not a boolean",
      "    environment: production\n    manual: yes please",
      [
        'deploy.config.yaml:9:13: pipelines.deploy-production.manual: expected true or false, got the string "yes please"',
      ],
    ],
    [
      "an empty deployers list",
      "    environment: production\n    deployers: []",
      [
        "deploy.config.yaml:9:16: pipelines.deploy-production.deployers: give at least one login, or leave deployers out (anyone with write access)",
      ],
    ],
    [
      "a login with shell metacharacters",
      "    environment: production\n    deployers: ['alice; rm -rf /']",
      [
        'deploy.config.yaml:9:17: pipelines.deploy-production.deployers[0]: "alice; rm -rf /" is not a GitHub login',
      ],
    ],
    [
      "a login starting with a hyphen",
      "    environment: production\n    deployers: [-alice]",
      ['deploy.config.yaml:9:17: pipelines.deploy-production.deployers[0]: "-alice" is not a GitHub login'],
    ],
    [
      "a login longer than 39 characters",
      `    environment: production\n    deployers: [${"a".repeat(40)}]`,
      [
        `deploy.config.yaml:9:17: pipelines.deploy-production.deployers[0]: "${"a".repeat(40)}" is not a GitHub login`,
      ],
    ],
    [
      "a unicode lookalike login",
      "    environment: production\n    deployers: [аlice]",
      ['deploy.config.yaml:9:17: pipelines.deploy-production.deployers[0]: "аlice" is not a GitHub login'],
    ],
    [
      "a team instead of a login",
      "    environment: production\n    deployers: ['@acme/ops']",
      [
        'deploy.config.yaml:9:17: pipelines.deploy-production.deployers[0]: "@acme/ops" is not a GitHub login',
      ],
    ],
  ])("refuses %s", (_what, pipeline, expected) => {
    expect(errorsOf(config(pipeline))).toEqual(expected);
  });
});
