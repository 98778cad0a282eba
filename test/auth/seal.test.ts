import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/auth/seal.ts";

const KEY = "a-session-secret-of-at-least-32-characters";
const NOW = new Date("2026-12-02T12:00:00Z");
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe("sealed cookie values (AES-256-GCM)", () => {
  const sealer = createSealer(KEY);

  it("opens what it sealed, for the same purpose, until it expires", () => {
    const sealed = sealer.seal("session", { sid: "s1", login: "octocat" }, 60_000, NOW);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("octocat");
    expect(sealer.unseal("session", sealed, later(59_999))).toEqual({
      ok: true,
      value: { sid: "s1", login: "octocat" },
      expiresAt: later(60_000),
    });
    expect(sealer.unseal("session", sealed, later(60_000))).toEqual({ ok: false, reason: "expired" });
  });

  it("seals the same value differently each time (random IV)", () => {
    expect(sealer.seal("session", { a: 1 }, 1000, NOW)).not.toBe(sealer.seal("session", { a: 1 }, 1000, NOW));
  });

  it("refuses a value sealed with another key", () => {
    const other = createSealer("another-session-secret-of-32-characters!");
    const sealed = other.seal("session", { sid: "s1" }, 60_000, NOW);
    expect(sealer.unseal("session", sealed, NOW)).toEqual({ ok: false, reason: "tampered" });
  });

  it("refuses a value sealed for another purpose (a login state is not a session)", () => {
    const sealed = sealer.seal("login-state", { sid: "s1" }, 60_000, NOW);
    expect(sealer.unseal("session", sealed, NOW)).toEqual({ ok: false, reason: "tampered" });
  });

  it("refuses every single-character change", () => {
    const sealed = sealer.seal("session", { sid: "s1", login: "octocat" }, 60_000, NOW);
    for (let i = 3; i < sealed.length; i++) {
      const c = sealed[i] === "A" ? "B" : "A";
      const edited = `${sealed.slice(0, i)}${c}${sealed.slice(i + 1)}`;
      const opened = sealer.unseal("session", edited, NOW);
      expect(opened.ok, `changed at ${i}`).toBe(false);
    }
  });

  it.each([
    ["empty", ""],
    ["no version", "abc"],
    ["other version", "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["not base64url", "v1.<script>"],
    ["too short", "v1.AAAA"],
    ["oversized", `v1.${"A".repeat(5000)}`],
  ])("refuses a malformed value: %s", (_, value) => {
    expect(sealer.unseal("session", value, NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a value truncated or extended", () => {
    const sealed = sealer.seal("session", { sid: "s1" }, 60_000, NOW);
    expect(sealer.unseal("session", sealed.slice(0, -2), NOW).ok).toBe(false);
    expect(sealer.unseal("session", `${sealed}AA`, NOW).ok).toBe(false);
  });
});
