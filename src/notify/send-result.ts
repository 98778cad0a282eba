/**
 * What one attempt to send a notification came to, and the pure rules that decide it: retried on 5xx, 429
 * (honouring `Retry-After`) and network errors, never on another 4xx. The shape is the outbox's `Delivered`.
 */

export type SendResult =
  | { readonly ok: true; readonly status: number; readonly answer: string }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly retryAfterMs?: number;
      readonly error: string;
      /** The HTTP status, when an answer came back. */
      readonly status?: number;
    };

/** A `Retry-After` longer than this is treated as this: a notification an hour late is still worth sending. */
export const RETRY_AFTER_MAX_MS = 60 * 60 * 1000;

/** Milliseconds from `now` that a `Retry-After` header (seconds or an HTTP date) asks for, or undefined. */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now.getTime();
  }
  return Math.min(Math.max(ms, 0), RETRY_AFTER_MAX_MS);
}

/** The result for an HTTP answer with `status` (an answer body is cut to a short, one-line excerpt). */
export function resultOfAnswer(
  status: number,
  body: string,
  retryAfter: string | null | undefined,
  now: Date,
): SendResult {
  const answer = excerpt(body);
  if (status >= 200 && status < 300) return { ok: true, status, answer };
  const error = `HTTP ${status}${answer ? `: ${answer}` : ""}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return {
      ok: false,
      retryable: true,
      status,
      error,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  // 3xx (redirects are not followed: a signed body must not go elsewhere) and other 4xx: retrying cannot help.
  return { ok: false, retryable: false, status, error };
}

/** No answer came back (refused, reset, DNS, timeout): worth retrying. */
export function resultOfNetworkError(error: unknown): SendResult {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return {
    ok: false,
    retryable: true,
    error: `network error: ${excerpt(code ? `${message} (${code})` : message)}`,
  };
}

const excerpt = (text: string): string => text.replace(/\s+/g, " ").trim().slice(0, 200);

/**
 * The wait before the next attempt when the answer named none (contract: first retry within 5 s, the second
 * within 30 s after it, then backing off to an hour). `attempts` counts the attempts made so far (≥ 1).
 */
export function retryDelayMs(attempts: number): number {
  const schedule = [2_000, 5_000, 30_000, 2 * 60_000, 10 * 60_000];
  return schedule[Math.max(0, attempts - 1)] ?? 60 * 60_000;
}

/** The URL with only what is safe to log: scheme, host and port (paths and queries hold tokens). */
export function loggableUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(not a URL)";
  }
}
