/**
 * Group commit for deliveries that run nothing: they are the bulk of a busy installation's webhooks
 * (pushes to other branches, PR labels, …), and a commit each would make the store the front door's
 * bottleneck. They are buffered and written together every `intervalMs` or `maxBatch` deliveries.
 */
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";

export interface IgnoredDeliveryBatcher {
  add(input: AcceptDeliveryInput): void;
  /** Writes what is buffered; called on shutdown and in tests. */
  flush(): Promise<void>;
}

export function batchIgnoredDeliveries(
  write: (inputs: readonly AcceptDeliveryInput[]) => Promise<void>,
  options: { intervalMs?: number; maxBatch?: number; onError: (error: unknown, count: number) => void },
): IgnoredDeliveryBatcher {
  const intervalMs = options.intervalMs ?? 200;
  const maxBatch = options.maxBatch ?? 500;
  let buffer: AcceptDeliveryInput[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    // Batches are written one after another, so a slow commit never runs two transactions at once.
    writing = writing.then(() =>
      batch.length === 0
        ? undefined
        : write(batch).catch((error: unknown) => options.onError(error, batch.length)),
    );
    return writing;
  };

  return {
    add(input) {
      buffer.push(input);
      if (buffer.length >= maxBatch) void flush();
      else timer ??= setTimeout(() => void flush(), intervalMs).unref();
    },
    flush,
  };
}
