import { describe, expect, it } from "vitest";
import { bearerTokenMatches, MAX_AUTHORIZATION_LENGTH } from "../../src/observe/bearer-token.ts";

const TOKEN = "metrics-token-0123456789";

describe("bearerTokenMatches", () => {
  it.each<[string, boolean, string | undefined]>([
    ["the token", true, `Bearer ${TOKEN}`],
    ["a lower-case scheme", true, `bearer ${TOKEN}`],
    ["no header", false, undefined],
    ["an empty header", false, ""],
    ["the scheme alone", false, "Bearer"],
    ["the scheme and a space", false, "Bearer "],
    ["a wrong token", false, "Bearer metrics-token-0123456788"],
    ["a prefix of the token", false, `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token and more", false, `Bearer ${TOKEN}x`],
    ["two tokens", false, `Bearer ${TOKEN} ${TOKEN}`],
    ["another scheme", false, `Basic ${TOKEN}`],
    ["no scheme", false, TOKEN],
    [
      "an oversized header holding the token",
      false,
      `Bearer ${TOKEN}${" ".repeat(MAX_AUTHORIZATION_LENGTH)}`,
    ],
  ])("%s → %s", (_, expected, header) => {
    expect(bearerTokenMatches(header, TOKEN)).toBe(expected);
  });
});
