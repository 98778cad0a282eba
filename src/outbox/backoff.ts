/** When to try a message again after `attempts` failed deliveries. Pure. */

export interface BackoffOptions {
  /** Wait after the first failure; doubles with each further one. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** No wait is shorter (a `Retry-After: 0` must not make a busy loop). */
  readonly minMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 10 * 60 * 1000, minMs: 250 };

/**
 * The wait before the next try: `baseMs · 2^(attempts − 1)`, capped at `maxMs`, or the handler's own
 * `retryAfterMs` (a `Retry-After` answer) when it asks for one, bounded the same way; never below `minMs`. `jitter` (0..1) spreads
 * the waits of messages that failed together by up to a fifth.
 */
export function nextRetryDelay(
  attempts: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
  jitter = 0,
): number {
  const bounded = (ms: number) => Math.round(Math.min(options.maxMs, Math.max(options.minMs, ms)));
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) return bounded(retryAfterMs);
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  return bounded(options.baseMs * 2 ** exponent * (1 - 0.2 * Math.min(Math.max(jitter, 0), 1)));
}
