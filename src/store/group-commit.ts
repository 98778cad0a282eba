/**
 * Group commit: callers each wait for their own item to be durable, but items that arrive while a commit
 * is in flight are written together in the next one. At low load an item commits at once (no timer, no
 * added latency); under load the number of commits stays bounded while throughput grows with the batch.
 */

export interface GroupCommit<I, O> {
  /** Resolves once `item` is committed, with its own result; rejects if its commit failed. */
  add(item: I): Promise<O>;
  /** Resolves when nothing is buffered or in flight (for shutdown). */
  drain(): Promise<void>;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `commit` writes a batch and returns one result per item, in order. When a batch of several fails,
 * each item is retried alone, so one bad item cannot fail the deliveries that happened to share its commit.
 */
export function groupCommit<I, O>(
  commit: (items: readonly I[]) => Promise<readonly O[]>,
  options: { readonly maxBatch?: number } = {},
): GroupCommit<I, O> {
  const maxBatch = options.maxBatch ?? 256;
  let buffer: Waiting<I, O>[] = [];
  let inFlight: Promise<void> | undefined;

  const write = async (batch: readonly Waiting<I, O>[]): Promise<void> => {
    try {
      const results = await commit(batch.map((waiting) => waiting.item));
      if (results.length !== batch.length) throw new Error("group commit: one result per item expected");
      for (const [index, waiting] of batch.entries()) waiting.resolve(results[index]!);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const waiting of batch) await write([waiting]);
    }
  };

  let scheduled = false;
  const pump = (): void => {
    if (inFlight || scheduled || buffer.length === 0) return;
    // Yield once before committing (setImmediate runs after the poll phase), so every request already on
    // the wire is read into this buffer and shares the commit instead of the first of a burst committing
    // alone. (This mattered most when embedded PGlite ran on this thread; it now runs in a worker thread.)
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const batch = buffer.slice(0, maxBatch);
      buffer = buffer.slice(batch.length);
      inFlight = write(batch).finally(() => {
        inFlight = undefined;
        pump();
      });
    });
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        buffer.push({ item, resolve, reject });
        pump();
      });
    },
    async drain() {
      while (inFlight || scheduled || buffer.length > 0) {
        if (inFlight) await inFlight;
        else await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
