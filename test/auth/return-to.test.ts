import { describe, expect, it } from "vitest";
import { safeReturnTo } from "../../src/auth/return-to.ts";

describe("safeReturnTo: only a path on this server", () => {
  it.each([
    ["/", "/"],
    ["/runs/abc", "/runs/abc"],
    ["/?repo=acme%2Fapp&state=failed", "/?repo=acme%2Fapp&state=failed"],
    ["/runs/abc/log", "/runs/abc/log"],
  ])("keeps %s", (raw, expected) => {
    expect(safeReturnTo(raw)).toBe(expected);
  });

  it.each([
    [null],
    [undefined],
    [""],
    ["https://evil.example/"],
    ["//evil.example/"],
    ["///evil.example/"],
    ["/\\evil.example/"],
    ["\\\\evil.example"],
    ["/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n")],
    ["javascript:alert(1)"],
    ["evil.example"],
    ["/\tevil"],
    ["/.//evil.example"],
    ["/%2e//evil.example"],
    ["/a/..//evil.example"],
    ["/auth/login?return_to=/auth/login"],
    ["/auth/callback?code=x"],
    [`/${"a".repeat(3000)}`],
  ])("falls back to / for %j", (raw) => {
    expect(safeReturnTo(raw)).toBe("/");
  });
});
