import { describe, expect, it } from "vitest";
import { createRejectionLog } from "../../src/server/rejection-log.ts";

function setup() {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  let now = 0;
  const log = createRejectionLog(
    { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg: msg ?? "" }) },
    { intervalMs: 1000, now: () => now },
  );
  return { lines, log, advance: (ms: number) => (now += ms) };
}

describe("createRejectionLog", () => {
  it("logs one line per reason per interval and counts the rest", () => {
    const { lines, log, advance } = setup();
    for (let i = 0; i < 500; i++) log.reject("bad-signature", "127.0.0.1", `id-${i}`);
    for (let i = 0; i < 3; i++) log.reject("too-large", "127.0.0.1", `big-${i}`);
    expect(lines.map((l) => l.obj.reason)).toEqual(["bad-signature", "too-large"]);
    expect(log.pending()).toBe(501);
    advance(1000);
    log.reject("bad-signature", "127.0.0.1", "later");
    expect(lines).toHaveLength(3);
    log.flush();
    const summaries = lines.filter((l) => l.msg === "more webhook requests rejected");
    expect(summaries.map((l) => [l.obj.reason, l.obj.count])).toEqual([
      ["bad-signature", 499],
      ["too-large", 2],
    ]);
    expect(log.pending()).toBe(0);
    log.flush();
    expect(lines).toHaveLength(5);
  });

  it("clips attacker-chosen values to short printable text", () => {
    const { lines, log } = setup();
    log.reject("bad-signature", "::ffff:127.0.0.1", `${"x".repeat(5000)}\n{"injected":true}`);
    const line = lines[0]!;
    expect(line.obj).toEqual({
      reason: "bad-signature",
      remote: "::ffff:127.0.0.1",
      delivery: "x".repeat(40),
    });
    expect(JSON.stringify({ ...line.obj, msg: line.msg }).length).toBeLessThan(200);
    log.reject("missing-headers", undefined, "a\nb{c}");
    expect(lines[1]!.obj).toEqual({ reason: "missing-headers", remote: undefined, delivery: "a?b?c?" });
  });
});
