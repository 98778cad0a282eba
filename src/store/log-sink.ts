/**
 * Step output arrives in many small pieces; writing each as a row would make the database the
 * bottleneck. The sink buffers and writes in batches, in order, and never lets a storage hiccup
 * fail the pipeline that produced the output.
 */
import type { LogSink } from "../exec/capture-log.ts";
import type { Logger } from "./logger.ts";

export type { LogSink } from "../exec/capture-log.ts";

export interface RunLogSink extends LogSink {
  /** Writes whatever is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; call before the run's final state is recorded. */
  close(): Promise<void>;
}

export type AppendLog = (runId: string, stepIndex: number, text: string) => Promise<void>;

export interface LogSinkOptions {
  readonly flushMs?: number;
  readonly maxBytes?: number;
  readonly logger?: Logger;
}

/** Buffers a run's output and appends it every `flushMs` (250 ms), at `maxBytes` (64 KB) and on `end`. */
export function createRunLogSink(append: AppendLog, runId: string, options: LogSinkOptions = {}): RunLogSink {
  const flushMs = options.flushMs ?? 250;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  let buffer: { stepIndex: number; text: string }[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    bytes = 0;
    if (batch.length === 0) return chain;
    chain = chain.then(async () => {
      for (const chunk of mergeByStep(batch)) {
        try {
          await append(runId, chunk.stepIndex, chunk.text);
        } catch (error) {
          options.logger?.warn(
            { err: error, runId, stepIndex: chunk.stepIndex },
            "could not store log output",
          );
        }
      }
    });
    return chain;
  };

  const write = (stepIndex: number, text: string): void => {
    if (text.length === 0) return;
    buffer.push({ stepIndex, text });
    bytes += Buffer.byteLength(text);
    if (bytes >= maxBytes) void flush();
    else if (!timer) timer = setTimeout(() => void flush(), flushMs);
  };

  return {
    write,
    // The summary is bookkeeping of the capture (bytes kept and cut); the step's text is all written.
    end() {
      void flush();
    },
    flush,
    close: flush,
  };
}

/** Consecutive chunks of one step become one row. */
function mergeByStep(
  chunks: readonly { stepIndex: number; text: string }[],
): { stepIndex: number; text: string }[] {
  const merged: { stepIndex: number; text: string }[] = [];
  for (const chunk of chunks) {
    const last = merged.at(-1);
    if (last && last.stepIndex === chunk.stepIndex) last.text += chunk.text;
    else merged.push({ ...chunk });
  }
  return merged;
}
