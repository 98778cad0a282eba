import { describe, expect, it } from "vitest";
import { isCommitSha } from "../../src/events/commit-sha.ts";
import { MalformedPayload, sha } from "../../src/events/normalise-fields.ts";
import { shaProblem } from "../../src/exec/validate-git-input.ts";

// The normaliser and the checkout must agree: an event the bot accepts is one it can check out.
describe("commit ids: normaliser and checkout agree", () => {
  it.each([
    { name: "SHA-1", value: "a".repeat(40), ok: true },
    { name: "SHA-256", value: "b".repeat(64), ok: true },
    { name: "abbreviated", value: "a".repeat(7), ok: false },
    { name: "41 hex", value: "a".repeat(41), ok: false },
    { name: "63 hex", value: "a".repeat(63), ok: false },
    { name: "65 hex", value: "a".repeat(65), ok: false },
    { name: "uppercase", value: "A".repeat(40), ok: false },
    { name: "an option", value: `--upload-pack=x${"a".repeat(30)}`, ok: false },
    { name: "an expression", value: "HEAD~1", ok: false },
  ])("$name → $ok", ({ value, ok }) => {
    expect(isCommitSha(value)).toBe(ok);
    expect(shaProblem(value)).toBe(ok ? null : "the commit id must be 40 or 64 lowercase hex characters");
    const read = () => sha({ after: value }, "after", "after");
    if (ok) expect(read()).toBe(value);
    else expect(read).toThrow(MalformedPayload);
  });
});
