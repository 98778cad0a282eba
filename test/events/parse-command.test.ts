import { describe, expect, it } from "vitest";
import { type ParsedComment, parseCommand } from "../../src/events/parse-command.ts";

const command = (text: string, value: object): ParsedComment => ({
  kind: "command",
  command: value as never,
  text,
});
const refused = (text: string, reason: string): ParsedComment => ({ kind: "refused", reason, text });

describe("parseCommand", () => {
  it.each<[string, string, ParsedComment]>([
    [
      "deploy on a PR",
      "/deploy-bot deploy staging",
      command("/deploy-bot deploy staging", { name: "deploy", environment: "staging", ref: undefined }),
    ],
    [
      "deploy with a ref",
      "/deploy-bot deploy production v1.2.3",
      command("/deploy-bot deploy production v1.2.3", {
        name: "deploy",
        environment: "production",
        ref: "v1.2.3",
      }),
    ],
    [
      "deploy with a branch path",
      "/deploy-bot deploy staging feature/x",
      command("/deploy-bot deploy staging feature/x", {
        name: "deploy",
        environment: "staging",
        ref: "feature/x",
      }),
    ],
    ["retry", "/deploy-bot retry", command("/deploy-bot retry", { name: "retry", pipeline: undefined })],
    [
      "retry one pipeline",
      "/deploy-bot retry test",
      command("/deploy-bot retry test", { name: "retry", pipeline: "test" }),
    ],
    [
      "rollback",
      "/deploy-bot rollback production",
      command("/deploy-bot rollback production", { name: "rollback", environment: "production" }),
    ],
    ["help", "/deploy-bot help", command("/deploy-bot help", { name: "help" })],
    ["approve", "/deploy-bot approve", command("/deploy-bot approve", { name: "approve" })],
    [
      "surrounding blanks and tabs",
      "  /deploy-bot\tdeploy   staging \t",
      command("/deploy-bot\tdeploy   staging", { name: "deploy", environment: "staging", ref: undefined }),
    ],
    [
      "free text after the first line",
      "/deploy-bot deploy staging\r\nplease, and `rm -rf /`\n/deploy-bot rollback production",
      command("/deploy-bot deploy staging", { name: "deploy", environment: "staging", ref: undefined }),
    ],
    ["the bare prefix", "/deploy-bot", refused("/deploy-bot", "no command given")],
    [
      "an unknown command",
      "/deploy-bot destroy production",
      refused("/deploy-bot destroy production", 'unknown command "destroy"'),
    ],
    [
      "an upper-case command",
      "/deploy-bot DEPLOY staging",
      refused("/deploy-bot DEPLOY staging", 'unknown command "DEPLOY"'),
    ],
    [
      "deploy without an environment",
      "/deploy-bot deploy",
      refused("/deploy-bot deploy", "deploy needs an environment"),
    ],
    [
      "deploy with too many arguments",
      "/deploy-bot deploy staging main extra",
      refused("/deploy-bot deploy staging main extra", "deploy takes an environment and at most one ref"),
    ],
    [
      "rollback without an environment",
      "/deploy-bot rollback",
      refused("/deploy-bot rollback", "rollback needs an environment"),
    ],
    [
      "rollback with two",
      "/deploy-bot rollback a b",
      refused("/deploy-bot rollback a b", "rollback takes exactly one environment"),
    ],
    [
      "retry with two",
      "/deploy-bot retry a b",
      refused("/deploy-bot retry a b", "retry takes at most one pipeline"),
    ],
    ["help with arguments", "/deploy-bot help me", refused("/deploy-bot help me", "help takes no arguments")],
    [
      "shell metacharacters in the environment",
      "/deploy-bot deploy staging;rm$IFS-rf",
      refused(
        "/deploy-bot deploy staging;rm$IFS-rf",
        "\"staging;rm$IFS-rf\" is not a valid environment name (letters, digits, '.', '_', '-')",
      ),
    ],
    [
      "command substitution in the ref",
      "/deploy-bot deploy staging $(id)",
      refused(
        "/deploy-bot deploy staging $(id)",
        'ref "$(id)" contains a character that is not allowed (give a branch, tag or commit SHA)',
      ),
    ],
    [
      "an option-like ref",
      "/deploy-bot deploy staging --upload-pack=touch$IFS/tmp/x",
      refused(
        "/deploy-bot deploy staging --upload-pack=touch$IFS/tmp/x",
        'ref "--upload-pack=touch$IFS/tmp/x" contains a character that is not allowed (give a branch, tag or commit SHA)',
      ),
    ],
    [
      "a ref with ..",
      "/deploy-bot deploy staging main..evil",
      refused(
        "/deploy-bot deploy staging main..evil",
        'ref "main..evil" contains ".." (give a branch, tag or commit SHA)',
      ),
    ],
    [
      "a ref ending in .lock",
      "/deploy-bot deploy staging main.lock",
      refused(
        "/deploy-bot deploy staging main.lock",
        'ref "main.lock" ends with ".lock" or "." (give a branch, tag or commit SHA)',
      ),
    ],
    [
      "a unicode lookalike environment",
      "/deploy-bot deploy ѕtaging",
      refused(
        "/deploy-bot deploy ѕtaging",
        "\"ѕtaging\" is not a valid environment name (letters, digits, '.', '_', '-')",
      ),
    ],
    [
      "a no-break space between words",
      "/deploy-bot deploy\u00a0staging",
      refused("/deploy-bot deploy\u00a0staging", 'unknown command "deploy\u00a0staging"'),
    ],
    [
      "a pipeline starting with a dot",
      "/deploy-bot retry .hidden",
      refused(
        "/deploy-bot retry .hidden",
        "\".hidden\" is not a valid pipeline name (letters, digits, '.', '_', '-')",
      ),
    ],
  ])("%s", (_what, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it.each([
    ["plain text", "LGTM, ship it"],
    ["a quoted command", "> /deploy-bot deploy production"],
    ["a command after the first line", "thanks!\n/deploy-bot deploy production"],
    ["a lookalike slash", "∕deploy-bot deploy production"],
    ["a lookalike prefix (Cyrillic е)", "/dеploy-bot deploy production"],
    ["a longer word", "/deploy-botnet deploy production"],
    ["a command in code", "`/deploy-bot deploy production`"],
    ["empty", ""],
  ])("%s is not a command", (_what, body) => {
    expect(parseCommand(body).kind).toBe("none");
  });

  it("refuses a huge first line without echoing it whole", () => {
    const parsed = parseCommand(`/deploy-bot deploy ${"a".repeat(1_000_000)}`);
    expect(parsed.kind).toBe("refused");
    expect(parsed.kind === "refused" && parsed.reason).toBe("the command line is longer than 200 characters");
    expect(parsed.kind === "refused" && parsed.text.length).toBe(200);
  });

  it("reads only the first line of a huge comment", () => {
    const parsed = parseCommand(`/deploy-bot retry\n${"x".repeat(1_000_000)}`);
    expect(parsed).toEqual(command("/deploy-bot retry", { name: "retry", pipeline: undefined }));
  });

  it("refuses a long environment name", () => {
    const parsed = parseCommand(`/deploy-bot rollback ${"e".repeat(101)}`);
    expect(parsed.kind === "refused" && parsed.reason).toBe(
      "the environment name is longer than 100 characters",
    );
  });
});
