import { describe, expect, it } from "vitest";
import { createRunLogSink } from "../../src/store/log-sink.ts";

describe("run log sink", () => {
  it("batches writes per step, in order, and flushes on end", async () => {
    const appended: [number, string][] = [];
    const sink = createRunLogSink(async (_run, step, text) => void appended.push([step, text]), "r", {
      flushMs: 10_000,
    });
    sink.write(0, "a");
    sink.write(0, "b");
    sink.write(1, "c");
    sink.write(1, "done\n");
    sink.end(1, { bytes: 6, cutBytes: 0, lines: 1 });
    await sink.close();
    expect(appended).toEqual([
      [0, "ab"],
      [1, "cdone\n"],
    ]);
  });

  it("flushes when the buffer reaches its byte limit", async () => {
    const appended: string[] = [];
    const sink = createRunLogSink(async (_run, _step, text) => void appended.push(text), "r", {
      flushMs: 10_000,
      maxBytes: 4,
    });
    sink.write(0, "12345");
    await sink.flush();
    expect(appended).toEqual(["12345"]);
    await sink.close();
  });

  it("logs a failed flush and keeps going", async () => {
    const warnings: object[] = [];
    let calls = 0;
    const sink = createRunLogSink(
      async () => {
        calls++;
        if (calls === 1) throw new Error("disk full");
      },
      "r",
      { flushMs: 5, logger: { info() {}, warn: (obj) => void warnings.push(obj), error() {} } },
    );
    sink.write(0, "lost");
    await sink.flush();
    sink.write(0, "kept");
    await expect(sink.close()).resolves.toBeUndefined();
    expect(calls).toBe(2);
    expect(warnings).toHaveLength(1);
  });
});
