import { describe, expect, it } from "vitest";
import { readCookie, setCookie } from "../../src/auth/cookies.ts";

describe("cookies", () => {
  it.each([
    ["a=1; deploybot_session=v1.x; b=2", "v1.x"],
    ["deploybot_session=first; deploybot_session=second", "first"],
    ["xdeploybot_session=no", undefined],
    ["deploybot_session", undefined],
    [undefined, undefined],
    [`deploybot_session=${"x".repeat(20_000)}`, undefined],
  ])("reads %j", (header, expected) => {
    expect(readCookie(header, "deploybot_session")).toBe(expected);
  });

  it("writes HttpOnly, SameSite=Lax, Secure only when asked", () => {
    expect(setCookie("n", "v", { path: "/", maxAgeSeconds: 60, secure: false })).toBe(
      "n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
    );
    expect(setCookie("n", "", { path: "/auth", maxAgeSeconds: 0, secure: true })).toBe(
      "n=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure",
    );
  });
});
