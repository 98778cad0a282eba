import { describe, expect, it } from "vitest";
import { bearerTokenMatches, MAX_AUTHORIZATION_LENGTH } from "../../src/observe/bearer-token.ts";

const TOKEN = "metrics-token-0123456789";

describe("bearerTokenMatches", () => {
  it.each([
    ["the token", `Bearer ${TOKEN}`, true],
    ["a lower-case scheme", `bearer ${TOKEN}`, true],
    ["no header", undefined, false],
    ["an empty header", "", false],
    ["the scheme alone", "Bearer", false],
    ["the scheme and a space", "Bearer ", false],
    ["a wrong token", "Bearer metrics-token-0123456788", false],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, -1)}`, false],
    ["the token and more", `Bearer ${TOKEN}x`, false],
    ["two tokens", `Bearer ${TOKEN} ${TOKEN}`, false],
    ["another scheme", `Basic ${TOKEN}`, false],
    ["no scheme", TOKEN, false],
    [
      "an oversized header holding the token",
      `Bearer ${TOKEN}${" ".repeat(MAX_AUTHORIZATION_LENGTH)}`,
      false,
    ],
  ])("%s → %s", (_, header, expected) => {
    expect(bearerTokenMatches(header, TOKEN)).toBe(expected);
  });
});
