import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, nextRetryDelay } from "../../src/outbox/backoff.ts";

describe("nextRetryDelay", () => {
  it.each([
    { attempts: 1, retryAfterMs: undefined, jitter: 0, expected: 1000 },
    { attempts: 2, retryAfterMs: undefined, jitter: 0, expected: 2000 },
    { attempts: 5, retryAfterMs: undefined, jitter: 0, expected: 16_000 },
    { attempts: 40, retryAfterMs: undefined, jitter: 0, expected: 600_000 },
    { attempts: 0, retryAfterMs: undefined, jitter: 0, expected: 1000 },
    { attempts: 3, retryAfterMs: undefined, jitter: 1, expected: 3200 },
    { attempts: 3, retryAfterMs: 30_000, jitter: 1, expected: 30_000 },
    { attempts: 3, retryAfterMs: 0, jitter: 0, expected: 250 },
    { attempts: 3, retryAfterMs: 86_400_000, jitter: 0, expected: 600_000 },
    { attempts: 3, retryAfterMs: Number.NaN, jitter: 0, expected: 4000 },
    { attempts: 3, retryAfterMs: -5, jitter: 0, expected: 250 },
  ])("after $attempts failure(s), Retry-After $retryAfterMs, jitter $jitter → $expected ms", (row) => {
    expect(nextRetryDelay(row.attempts, row.retryAfterMs, DEFAULT_BACKOFF, row.jitter)).toBe(row.expected);
  });
});
