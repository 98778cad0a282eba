import { describe, expect, it } from "vitest";
import { createLogCapture, cutMarker, LINE_CUT_SUFFIX, memoryLogSink } from "../../src/exec/capture-log.ts";

const fixedClock = () => 1500;

describe("createLogCapture", () => {
  it("prefixes complete lines with the elapsed time and keeps partial lines until the end", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({ stepIndex: 3, sink, mask: {}, startedAt: 0, now: fixedClock });
    capture.stdout.write("hel");
    capture.stdout.write("lo\nwor");
    capture.stderr.write(Buffer.from("err\r\n"));
    const summary = capture.end();
    expect(sink.text.get(3)).toBe("+1.500s hello\n+1.500s err\n+1.500s wor\n");
    expect(summary).toEqual({ bytes: 14, cutBytes: 0, lines: 3 });
    expect(sink.summaries.get(3)).toEqual(summary);
  });

  it("decodes UTF-8 split across chunks", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({ stepIndex: 0, sink, mask: {}, startedAt: 0, now: () => 0 });
    const bytes = Buffer.from("héllo ✓\n");
    for (const byte of bytes) capture.stdout.write(Buffer.from([byte]));
    capture.end();
    expect(sink.all()).toBe("+0.000s héllo ✓\n");
  });

  it("cuts long lines and says so", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({
      stepIndex: 0,
      sink,
      mask: {},
      startedAt: 0,
      now: () => 0,
      lineBytes: 10,
    });
    capture.stdout.write(`${"a".repeat(25)}\nshort\n`);
    const summary = capture.end();
    expect(sink.all()).toBe(`+0.000s ${"a".repeat(10)}${LINE_CUT_SUFFIX}\n+0.000s short\n`);
    expect(summary.cutBytes).toBe(15);
  });

  it("keeps head and tail of a huge output and marks the cut", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({
      stepIndex: 0,
      sink,
      mask: {},
      startedAt: 0,
      now: () => 0,
      headBytes: 100,
      tailBytes: 100,
    });
    for (let i = 0; i < 1000; i++) capture.stdout.write(`line ${String(i).padStart(4, "0")}\n`);
    const summary = capture.end();
    const lines = sink.all().trimEnd().split("\n");
    // A stored head line is "+0.000s line NNNN\n" = 18 bytes: 5 fit in the 100-byte head. The tail ring
    // holds raw lines ("line NNNN\n" = 10 bytes); its oldest, possibly partial, line is dropped: 9 remain.
    expect(lines.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `+0.000s line 000${i}`));
    expect(lines[5]).toBe(cutMarker(986 * 10, 986));
    expect(lines.slice(6)).toEqual(
      [991, 992, 993, 994, 995, 996, 997, 998, 999].map((i) => `+0.000s line 0${i}`),
    );
    expect(summary).toEqual({ bytes: 10_000, cutBytes: 9860, lines: 1000 });
  });

  it("masks a secret split across the switch from head to tail, and cuts long lines in the tail", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({
      stepIndex: 0,
      sink,
      mask: { secrets: ["SECRETVALUE"] },
      startedAt: 0,
      now: () => 0,
      headBytes: 20,
      tailBytes: 200,
      lineBytes: 30,
    });
    capture.stdout.write("first line\nSECRET");
    capture.stdout.write(`VALUE\n${"z".repeat(50)}\nlast SECRETVALUE\n`);
    capture.end();
    const text = sink.all();
    expect(text).not.toContain("SECRET");
    expect(text).toBe(
      `+0.000s first line\n+0.000s ***\n+0.000s ${"z".repeat(30)}${LINE_CUT_SUFFIX}\n+0.000s last ***\n`,
    );
  });

  it("masks secrets before lines are cut or stored, also across chunks", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({
      stepIndex: 0,
      sink,
      mask: { secrets: ["topsecret"] },
      startedAt: 0,
      now: () => 0,
    });
    capture.stdout.write("value=tops");
    capture.stdout.write("ecret\n");
    capture.note("deploy-bot: topsecret");
    capture.end();
    expect(sink.all()).toBe("+0.000s value=***\n+0.000s deploy-bot: ***\n");
  });

  it("delivers text in batches as it streams, before the end", () => {
    const sink = memoryLogSink();
    const capture = createLogCapture({
      stepIndex: 0,
      sink,
      mask: {},
      startedAt: 0,
      now: () => 0,
      batchBytes: 50,
    });
    for (let i = 0; i < 10; i++) capture.stdout.write("0123456789\n");
    expect(sink.all().length).toBeGreaterThan(0);
    capture.end();
    expect(sink.all().split("\n").filter(Boolean)).toHaveLength(10);
  });
});

describe("memoryLogSink", () => {
  it("stops storing at its cap", () => {
    const sink = memoryLogSink(10);
    sink.write(0, "12345");
    sink.write(0, "1234567");
    expect(sink.all()).toBe("12345");
    expect(sink.truncated).toBe(true);
  });
});
