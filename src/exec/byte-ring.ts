/**
 * A fixed-size ring of bytes: the last `capacity` bytes written, in one buffer allocated once. Used for
 * the tail of huge logs, where allocating per line would make the garbage collector grow the heap.
 */
export class ByteRing {
  readonly capacity: number;
  private readonly buffer: Buffer;
  /** Total bytes ever written (absolute offset of the next byte). */
  private written = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.buffer = Buffer.alloc(capacity);
  }

  /** Absolute offset of the oldest byte still held. */
  get start(): number {
    return Math.max(0, this.written - this.capacity);
  }

  get end(): number {
    return this.written;
  }

  /** Appends `source[from, to)` without allocating. */
  write(source: Buffer, from = 0, to = source.length): void {
    if (to - from > this.capacity) {
      this.written += to - from - this.capacity;
      from = to - this.capacity;
    }
    while (from < to) {
      const at = this.written % this.capacity;
      const n = Math.min(to - from, this.capacity - at);
      source.copy(this.buffer, at, from, from + n);
      from += n;
      this.written += n;
    }
  }

  /** The held bytes in order (a copy). */
  contents(): Buffer {
    const size = this.written - this.start;
    const at = this.written % this.capacity;
    if (size < this.capacity) return Buffer.from(this.buffer.subarray(0, size));
    return Buffer.concat([this.buffer.subarray(at), this.buffer.subarray(0, at)]);
  }
}
