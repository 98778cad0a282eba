import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatConfigError, loadConfig, parseConfig } from "../../src/config/load-config.ts";

const errorsOf = (text: string): string[] => {
  const result = parseConfig(text, "deploy.config.yaml");
  return result.ok ? [] : result.errors.map(formatConfigError);
};

const VALID = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: npm test
rules:
  - name: all pushes
    on:
      push:
    run: [test]
`;

describe("parseConfig", () => {
  it("accepts a valid file and applies the defaults", () => {
    const result = parseConfig(VALID, "deploy.config.yaml");
    expect(result).toEqual({
      ok: true,
      config: {
        version: 1,
        settings: {
          statusContext: "deploy-bot",
          checks: false,
          timeout: "30m",
          concurrency: 2,
          retention: { days: 30, runs: 1000 },
        },
        pipelines: {
          test: { secrets: [], env: {}, steps: [{ name: "Unit tests", run: "npm test", env: {} }] },
        },
        rules: [{ name: "all pushes", on: { push: {} }, run: ["test"], forks: "approve" }],
        notifications: [],
      },
    });
  });

  it("gives pull_request its defaults when written empty", () => {
    const result = parseConfig(VALID.replace("push:", "pull_request:"), "f");
    expect(result.ok && result.config.rules[0]?.on).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened"], drafts: true },
    });
  });

  // Each message, exactly, with its position.
  it.each([
    [
      "YAML syntax",
      "version: 1\npipelines: {a: [\n",
      [
        "deploy.config.yaml:3:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }",
        "deploy.config.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    [
      "an empty file",
      "# nothing yet\n",
      ['deploy.config.yaml:1:1: the file is empty: it needs at least "version: 1" and "pipelines"'],
    ],
    [
      "missing version",
      VALID.replace("version: 1\n", ""),
      ['deploy.config.yaml:1:1: missing required key "version" (add "version: 1")'],
    ],
    [
      "wrong version",
      VALID.replace("version: 1", "version: 2"),
      ["deploy.config.yaml:1:10: version: version must be 1"],
    ],
    [
      "unknown top-level key",
      `${VALID}pipeline: {}\n`,
      ['deploy.config.yaml:12:1: unknown key "pipeline" at the top level'],
    ],
    [
      "unknown key with a hint",
      `${VALID}setings: {}\n`,
      ['deploy.config.yaml:12:1: unknown key "setings" at the top level (did you mean "settings"?)'],
    ],
    [
      "unknown key in a push filter",
      VALID.replace("      push:", "      push:\n        brnaches: [main]"),
      ['deploy.config.yaml:11:9: unknown key "brnaches" in rules[0].on.push (did you mean "branches"?)'],
    ],
    [
      "unknown key in a step",
      VALID.replace("run: npm test", "run: npm test\n        timout: 1m"),
      ['deploy.config.yaml:7:9: unknown key "timout" in pipelines.test.steps[0] (did you mean "timeout"?)'],
    ],
    [
      "unknown key with no close match",
      VALID.replace("  test:\n", "  test:\n    colour: blue\n"),
      ['deploy.config.yaml:4:5: unknown key "colour" in pipelines.test'],
    ],
    [
      "a bad duration",
      VALID.replace("run: npm test", "run: npm test\n        timeout: 10mins"),
      [
        'deploy.config.yaml:7:18: pipelines.test.steps[0].timeout: invalid duration "10mins": use e.g. 30s, 10m, 1h or 1h30m',
      ],
    ],
    [
      "a zero duration",
      `${VALID}settings: {timeout: 0s}\n`,
      ["deploy.config.yaml:12:21: settings.timeout: a duration must be longer than 0s"],
    ],
    [
      "checks as a string",
      `${VALID}settings: {checks: "yes"}\n`,
      ['deploy.config.yaml:12:20: settings.checks: expected true or false, got the string "yes"'],
    ],
    [
      "empty steps",
      VALID.replace(/steps:\n.*\n.*npm test\n/, "steps: []\n"),
      ["deploy.config.yaml:4:12: pipelines.test.steps: a pipeline needs at least one step"],
    ],
    [
      "an unknown pipeline",
      VALID.replace("run: [test]", "run: [test, deploy]"),
      ['deploy.config.yaml:11:17: rules[0].run[1]: unknown pipeline "deploy" (pipelines: test)'],
    ],
    [
      "a duplicate rule name",
      `${VALID}  - name: all pushes\n    on: {push: }\n    run: [test]\n`,
      ['deploy.config.yaml:12:11: rules[1].name: duplicate rule name "all pushes"'],
    ],
    [
      "a duplicate step name",
      VALID.replace(
        "        run: npm test\n",
        "        run: npm test\n      - name: Unit tests\n        run: [npm, test]\n",
      ),
      ['deploy.config.yaml:7:15: pipelines.test.steps[1].name: duplicate step name "Unit tests"'],
    ],
    [
      "a duplicate pipeline (duplicate YAML key)",
      VALID.replace("rules:", "  test:\n    steps: [{name: x, run: y}]\nrules:"),
      ['deploy.config.yaml:7:3: duplicate key "test" in pipelines'],
    ],
    [
      "a duplicate key at the top level",
      `${VALID}version: 1\n`,
      ['deploy.config.yaml:12:1: duplicate key "version" at the top level'],
    ],
    [
      "a missing run",
      VALID.replace("    run: [test]\n", ""),
      ['deploy.config.yaml:8:5: rules[0]: missing required key "run"'],
    ],
    [
      "run as a string",
      VALID.replace("run: [test]", "run: test"),
      ['deploy.config.yaml:11:10: rules[0].run: expected a list, got the string "test"'],
    ],
    [
      "a rule without triggers",
      VALID.replace("      push:\n", "      {}\n"),
      ["deploy.config.yaml:10:7: rules[0].on: a rule needs at least one of push, pull_request or schedule"],
    ],
    [
      "an unknown pull_request type",
      VALID.replace("      push:", "      pull_request: {types: [openned]}"),
      [
        'deploy.config.yaml:10:30: rules[0].on.pull_request.types[0]: "openned" is not one of opened, synchronize, reopened, ready_for_review, edited, labeled, unlabeled, converted_to_draft',
      ],
    ],
    [
      "only negative patterns",
      VALID.replace("      push:", "      push: {branches: ['!main']}"),
      [
        'deploy.config.yaml:10:24: rules[0].on.push.branches: a list of only "!" patterns matches nothing: put a positive pattern such as "**" first',
      ],
    ],
    [
      "branches with branches-ignore",
      VALID.replace("      push:", "      push: {branches: [main], branches-ignore: [dev]}"),
      [
        'deploy.config.yaml:10:49: rules[0].on.push.branches-ignore: use either branches or branches-ignore, not both (use "!" patterns in branches instead)',
      ],
    ],
    [
      "a malformed glob",
      VALID.replace("      push:", "      push: {tags: ['v[0-9']}"),
      ['deploy.config.yaml:10:20: rules[0].on.push.tags: unclosed "[" in pattern "v[0-9"'],
    ],
    [
      "a bad pipeline name",
      VALID.replace("  test:", "  run tests:").replace("[test]", "['run tests']"),
      [
        "deploy.config.yaml:3:3: pipelines: invalid pipeline name \"run tests\": use letters, digits, '.', '_' and '-' only",
      ],
    ],
    [
      "a bad fork policy",
      VALID.replace("    run: [test]", "    run: [test]\n    forks: maybe"),
      ['deploy.config.yaml:12:12: rules[0].forks: "maybe" is not one of run, approve, never'],
    ],
    [
      "a wrong type",
      `${VALID}settings: {concurrency: many}\n`,
      ['deploy.config.yaml:12:25: settings.concurrency: expected a number, got the string "many"'],
    ],
    [
      "a step run of the wrong type",
      VALID.replace("run: npm test", "run: 5"),
      ["deploy.config.yaml:6:14: pipelines.test.steps[0].run: expected a string or a list, got the number 5"],
    ],
    [
      "production without an environment",
      VALID.replace("  test:\n", "  test:\n    production: true\n"),
      [
        "deploy.config.yaml:4:17: pipelines.test.production: production needs an environment (it marks that environment's Deployments)",
      ],
    ],
    [
      "production that is not a boolean",
      VALID.replace("  test:\n", "  test:\n    environment: live\n    production: yes please\n"),
      [
        'deploy.config.yaml:5:17: pipelines.test.production: expected true or false, got the string "yes please"',
      ],
    ],
  ])("reports %s", (_what, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });

  it("reports every problem at once, sorted by position", () => {
    const text = `version: 1
pipelines:
  test:
    steps:
      - name: a
        run: x
        timeout: 10mins
  empty:
    steps: []
rules:
  - name: r
    on:
      push:
        brnaches: [main]
    run: [test, deploy]
  - name: r
    on: {push: }
    run: [test]
`;
    expect(errorsOf(text)).toEqual([
      'deploy.config.yaml:7:18: pipelines.test.steps[0].timeout: invalid duration "10mins": use e.g. 30s, 10m, 1h or 1h30m',
      "deploy.config.yaml:9:12: pipelines.empty.steps: a pipeline needs at least one step",
      'deploy.config.yaml:14:9: unknown key "brnaches" in rules[0].on.push (did you mean "branches"?)',
      'deploy.config.yaml:15:17: rules[0].run[1]: unknown pipeline "deploy" (pipelines: test, empty)',
      'deploy.config.yaml:16:11: rules[1].name: duplicate rule name "r"',
    ]);
  });

  it("takes production as given, and leaves it unset by default", () => {
    const text = VALID.replace("  test:\n", "  test:\n    environment: live\n    production: false\n");
    const result = parseConfig(text, "f");
    expect(result.ok && result.config.pipelines.test).toMatchObject({
      environment: "live",
      production: false,
    });
    const plain = parseConfig(VALID.replace("  test:\n", "  test:\n    environment: production\n"), "f");
    expect(plain.ok && plain.config.pipelines.test?.production).toBeUndefined();
  });

  it("reads `on:` as a key, not YAML 1.1's boolean", () => {
    expect(parseConfig(VALID, "f").ok).toBe(true);
  });
});

describe("loadConfig", () => {
  it("reports a missing file at 1:1", async () => {
    expect(await loadConfig("/nonexistent/deploy.config.yaml")).toEqual({
      ok: false,
      errors: [{ file: "/nonexistent/deploy.config.yaml", line: 1, col: 1, message: "file not found" }],
    });
  });

  it("reads a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-config-"));
    const file = join(dir, "deploy.config.yaml");
    writeFileSync(file, VALID.replace("version: 1", "version: 3"));
    expect(await loadConfig(file)).toEqual({
      ok: false,
      errors: [{ file, line: 1, col: 10, message: "version: version must be 1" }],
    });
  });

  it("the checked-in example is valid and starts with the schema comment", async () => {
    const result = await loadConfig("deploy.config.yaml");
    expect(result.ok ? [] : result.errors.map(formatConfigError)).toEqual([]);
  });
});
