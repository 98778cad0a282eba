/**
 * Bounded capture of a step's output: whatever a step prints, the bot keeps at most `headBytes + tailBytes`
 * (plus one batch and one line) in memory and hands complete, masked, timestamped lines to a {@link LogSink}.
 *
 * Line format (stable, relied on by the run page and the PR comment): `+<seconds since step start, 3
 * decimals>s <text>`, e.g. `+12.345s compiling…`. stderr lines look the same (the order of arrival is kept).
 * A line longer than `lineBytes` is cut and ends with `… [line cut]`. When the output exceeds head + tail,
 * the middle is dropped and one line `… N bytes (M lines) cut …` marks where.
 */
import { StringDecoder } from "node:string_decoder";
import { ByteRing } from "./byte-ring.ts";
import { createMasker, type MaskValues } from "./mask-secrets.ts";

/** Where processed log text goes (the store implements it; the CLI prints it). */
export interface LogSink {
  /** Complete lines (each ending in `\n`), already masked and prefixed. */
  write(stepIndex: number, text: string): void;
  /** The step's output is complete; `bytes` counts raw output, `cutBytes` what was not kept. */
  end(stepIndex: number, summary: LogSummary): void;
}

export interface LogSummary {
  readonly bytes: number;
  readonly cutBytes: number;
  readonly lines: number;
}

export interface CaptureOptions {
  readonly stepIndex: number;
  readonly sink: LogSink;
  readonly mask: MaskValues;
  /** Where `+0.000s` is; defaults to now. */
  readonly startedAt?: number;
  /** Clock, for tests; defaults to `Date.now`. */
  readonly now?: () => number;
  readonly lineBytes?: number;
  readonly headBytes?: number;
  readonly tailBytes?: number;
  /** Text is delivered when this much is pending, or after `flushMs`. */
  readonly batchBytes?: number;
  readonly flushMs?: number;
}

/** One source of output (stdout or stderr) of a capture: its own decoder, masker and partial line. */
export interface CaptureStream {
  write(chunk: Uint8Array | string): void;
}

export interface LogCapture {
  readonly stdout: CaptureStream;
  readonly stderr: CaptureStream;
  /** A line written by the bot itself (e.g. `Timed out`); masked and prefixed like the rest. */
  note(text: string): void;
  /** Flushes partial lines and the tail, calls `sink.end` and returns the summary. Idempotent. */
  end(): LogSummary;
}

export const LINE_CUT_SUFFIX = "… [line cut]";
export const DEFAULT_LINE_BYTES = 4096;
export const DEFAULT_HEAD_BYTES = 1024 * 1024;
export const DEFAULT_TAIL_BYTES = 1024 * 1024;

/** The marker put where the middle of a huge log was dropped. */
export const cutMarker = (bytes: number, lines: number): string => `… ${bytes} bytes (${lines} lines) cut …`;

/** The stable timestamp prefix: seconds since the step started, e.g. `+12.345s `. */
export const timestampPrefix = (elapsedMs: number): string =>
  `+${(Math.max(0, elapsedMs) / 1000).toFixed(3)}s `;

/**
 * Starts capturing one step's output. Why bounded here and not in the store: the step decides how much it
 * prints, so the only safe place to bound memory is where the bytes arrive.
 *
 * Two phases. Head: text is decoded, masked, split into lines and delivered as it streams. Once
 * `headBytes` are delivered, tail: raw bytes of complete lines are copied into one preallocated ring of
 * `tailBytes` (no per-line allocation, so 200 MB of output does not make the heap grow), and only at the
 * end is the ring decoded, masked, cut into lines and delivered after the cut marker. Raw, unmasked bytes
 * never leave the capture.
 */
export function createLogCapture(options: CaptureOptions): LogCapture {
  const now = options.now ?? Date.now;
  const startedAt = options.startedAt ?? now();
  const lineBytes = options.lineBytes ?? DEFAULT_LINE_BYTES;
  const headBytes = options.headBytes ?? DEFAULT_HEAD_BYTES;
  const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  const batchBytes = options.batchBytes ?? 64 * 1024;
  const flushMs = options.flushMs ?? 200;
  const { sink, stepIndex } = options;

  let rawBytes = 0;
  let lines = 0;
  let lineCutBytes = 0;
  let headUsed = 0;
  let inTail = false;
  let batch: string[] = [];
  let batchSize = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended: LogSummary | undefined;

  // Tail phase state: the ring, how many lines went in, and when (offset → ms, one entry per new ms).
  let ring: ByteRing | undefined;
  let tailLinesIn = 0;
  let times: number[] = []; // flat pairs [offset, ms, offset, ms, …]
  let timesHead = 0;

  const flushBatch = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const text = batch.join("");
    batch = [];
    batchSize = 0;
    sink.write(stepIndex, text);
  };

  const deliver = (line: string): void => {
    const size = Buffer.byteLength(line);
    headUsed += size;
    batch.push(line);
    batchSize += size;
    if (batchSize >= batchBytes) flushBatch();
    else if (!timer) {
      timer = setTimeout(flushBatch, flushMs);
      timer.unref();
    }
  };

  const format = (text: string, cut: boolean, at: number): string =>
    `${timestampPrefix(at - startedAt)}${text}${cut ? LINE_CUT_SUFFIX : ""}\n`;

  /** Records one complete raw line (already capped) into the ring. */
  const tailLine = (source: Buffer, from: number, to: number, cut: boolean): void => {
    ring ??= new ByteRing(tailBytes);
    const r = ring;
    const ms = now();
    if (times.length === timesHead || times[times.length - 1] !== ms) times.push(r.end, ms);
    r.write(source, from, to);
    if (cut) r.write(CUT_SUFFIX_BYTES);
    r.write(NEWLINE);
    tailLinesIn++;
    lines++;
    // Forget times of lines that fell out of the ring (keep the one covering the ring's start).
    while (timesHead + 2 < times.length && (times[timesHead + 2] ?? 0) <= r.start) timesHead += 2;
    if (timesHead > 4096) {
      times = times.slice(timesHead);
      timesHead = 0;
    }
  };

  interface Stream extends CaptureStream {
    toTail(): void;
    close(): void;
  }
  const streams: Stream[] = [];

  const makeStream = (): Stream => {
    const decoder = new StringDecoder("utf8");
    const masker = createMasker(options.mask);
    let partial = "";
    let cutting = false; // the current line is already over `lineBytes`: drop until its newline
    // Tail phase: the current partial line as raw bytes, capped at `lineBytes`.
    const pending = Buffer.alloc(lineBytes);
    let pendingLength = 0;

    const headTake = (text: string): void => {
      let start = 0;
      while (start <= text.length) {
        if (inTail) {
          // Switched mid-chunk: the rest of this (masked) text, then what the masker still holds back.
          tailTake(Buffer.from(text.slice(start)));
          toTail();
          return;
        }
        const newline = text.indexOf("\n", start);
        const piece = newline === -1 ? text.slice(start) : text.slice(start, newline);
        if (cutting) lineCutBytes += Buffer.byteLength(piece);
        else {
          partial += piece;
          if (partial.length > lineBytes) {
            let kept = partial.slice(0, lineBytes);
            while (Buffer.byteLength(kept) > lineBytes) kept = kept.slice(0, -1);
            lineCutBytes += Buffer.byteLength(partial) - Buffer.byteLength(kept);
            partial = kept;
            cutting = true;
          }
        }
        if (newline === -1) break;
        const line = format(partial.endsWith("\r") ? partial.slice(0, -1) : partial, cutting, now());
        partial = "";
        cutting = false;
        start = newline + 1;
        if (headUsed + Buffer.byteLength(line) <= headBytes) {
          lines++;
          deliver(line);
        } else {
          switchToTail(self);
          const raw = Buffer.from(line.slice(line.indexOf(" ") + 1, -1));
          tailLine(raw, 0, raw.length, false);
        }
      }
    };

    const appendPending = (source: Buffer, from: number, to: number): void => {
      const room = lineBytes - pendingLength;
      const n = Math.min(room, to - from);
      if (n > 0) source.copy(pending, pendingLength, from, from + n);
      pendingLength += Math.max(0, n);
      if (to - from > n) {
        lineCutBytes += to - from - n;
        cutting = true;
      }
    };

    /**
     * Moves this stream to the tail phase. Text already decoded and masked continues into the ring as
     * bytes; the final pass masks the ring again, so a secret split across the switch is still caught.
     */
    const toTail = (): void => {
      const rest = partial + masker.push(decoder.end()) + masker.flush();
      partial = "";
      if (rest) tailTake(Buffer.from(rest));
    };

    const tailTake = (chunk: Buffer): void => {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(10, start);
        if (newline === -1) {
          appendPending(chunk, start, chunk.length);
          return;
        }
        if (pendingLength === 0 && !cutting && newline - start <= lineBytes) {
          tailLine(chunk, start, newline, false); // the common case: no copy through `pending`
        } else {
          appendPending(chunk, start, newline);
          tailLine(pending, 0, pendingLength, cutting);
          pendingLength = 0;
          cutting = false;
        }
        start = newline + 1;
      }
    };

    const self: Stream = {
      write(chunk) {
        if (ended) return;
        const bytes =
          typeof chunk === "string"
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        rawBytes += bytes.length;
        if (inTail) tailTake(bytes);
        else headTake(masker.push(decoder.write(bytes)));
      },
      toTail,
      close() {
        if (inTail) {
          if (pendingLength > 0 || cutting) tailLine(pending, 0, pendingLength, cutting);
        } else {
          headTake(masker.push(decoder.end()) + masker.flush());
          if (inTail) {
            if (pendingLength > 0 || cutting) tailLine(pending, 0, pendingLength, cutting);
          } else if (partial.length > 0 || cutting) {
            lines++;
            deliver(format(partial, cutting, now()));
          }
        }
        partial = "";
        pendingLength = 0;
        cutting = false;
      },
    };
    return self;
  };

  /** The head is full: every other stream moves its held-back text into the ring (`current` does it itself). */
  const switchToTail = (current: Stream): void => {
    if (inTail) return;
    inTail = true;
    flushBatch();
    for (const stream of streams) if (stream !== current) stream.toTail();
  };

  /** Decodes, masks and formats what the ring holds; returns the marker (if anything was cut) and lines. */
  const finishTail = (): { cutBytes: number; text: string[] } => {
    if (!ring) return { cutBytes: 0, text: [] };
    let bytes = ring.contents();
    let offset = ring.start;
    if (ring.start > 0) {
      // The oldest line was only partly kept: drop it whole.
      const firstNewline = bytes.indexOf(10);
      bytes = bytes.subarray(firstNewline + 1);
      offset += firstNewline + 1;
    }
    const masker = createMasker(options.mask);
    const text = masker.push(bytes.toString("utf8")) + masker.flush();
    const kept = text.split("\n");
    kept.pop(); // the ring always ends with a newline
    const out: string[] = [];
    let timeIndex = timesHead;
    let byteOffset = offset;
    for (const raw of kept) {
      while (timeIndex + 2 < times.length && (times[timeIndex + 2] ?? 0) <= byteOffset) timeIndex += 2;
      const at = times[timeIndex + 1] ?? now();
      byteOffset += Buffer.byteLength(raw) + 1; // masking may shift offsets slightly; times stay close
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const cut = line.endsWith(LINE_CUT_SUFFIX);
      out.push(format(cut ? line.slice(0, -LINE_CUT_SUFFIX.length) : line, cut, at));
    }
    // Everything before `offset` was written to the ring and is gone: that is the cut middle.
    const cutLines = tailLinesIn - kept.length;
    if (cutLines > 0) out.unshift(`${cutMarker(offset, cutLines)}\n`);
    return { cutBytes: cutLines > 0 ? offset : 0, text: out };
  };

  const stdout = makeStream();
  const stderr = makeStream();
  const notes = makeStream();
  streams.push(stdout, stderr, notes);

  return {
    stdout,
    stderr,
    note(text) {
      notes.write(`${text}\n`);
      rawBytes -= Buffer.byteLength(text) + 1; // the bot's own lines are not the step's output
    },
    end() {
      if (ended) return ended;
      for (const stream of streams) stream.close();
      const tail = finishTail();
      batch.push(...tail.text);
      flushBatch();
      ended = { bytes: rawBytes, cutBytes: tail.cutBytes + lineCutBytes, lines };
      sink.end(stepIndex, ended);
      return ended;
    },
  };
}

const NEWLINE = Buffer.from("\n");
const CUT_SUFFIX_BYTES = Buffer.from(LINE_CUT_SUFFIX);

/** Prints log text to a stream (the CLI); `write` is synchronous so output order matches the runner's. */
export function consoleLogSink(stream: NodeJS.WritableStream): LogSink {
  return {
    write: (_stepIndex, text) => {
      stream.write(text);
    },
    end: () => {},
  };
}

export interface MemoryLogSink extends LogSink {
  /** Text per step index. */
  readonly text: Map<number, string>;
  readonly summaries: Map<number, LogSummary>;
  /** All steps' text in order of arrival. */
  all(): string;
}

/**
 * Keeps log text in memory, for tests. Capped (default 8 MB in total) so a runaway test cannot eat memory;
 * beyond the cap text is dropped and `truncated` says so.
 */
export function memoryLogSink(capBytes = 8 * 1024 * 1024): MemoryLogSink & { readonly truncated: boolean } {
  const text = new Map<number, string>();
  const summaries = new Map<number, LogSummary>();
  const order: string[] = [];
  let size = 0;
  let truncated = false;
  return {
    text,
    summaries,
    get truncated() {
      return truncated;
    },
    write(stepIndex, chunk) {
      if (size + chunk.length > capBytes) {
        truncated = true;
        return;
      }
      size += chunk.length;
      text.set(stepIndex, (text.get(stepIndex) ?? "") + chunk);
      order.push(chunk);
    },
    end(stepIndex, summary) {
      summaries.set(stepIndex, summary);
    },
    all: () => order.join(""),
  };
}
