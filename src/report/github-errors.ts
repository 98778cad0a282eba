/** Telling transient GitHub API failures (retry later) from permanent ones (log and move on). */

export interface GitHubFailure {
  /** Worth trying again later: 5xx, rate limits (429, or 403 saying so), 408, network errors. */
  readonly transient: boolean;
  readonly status: number | undefined;
  readonly method: string | undefined;
  /** The request URL (no credentials: the token travels in a header, never in the URL). */
  readonly url: string | undefined;
  readonly message: string;
  /** How long GitHub asked us to wait (`Retry-After`, or `x-ratelimit-reset` once the limit is used up). */
  readonly retryAfterMs: number | undefined;
}

/** A wait GitHub asks for is honoured up to this; past it the outbox's own backoff applies. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * Describes an error thrown by Octokit without ever including headers or bodies (they may hold tokens); only
 * the two rate-limit headers are read. `now` is for `x-ratelimit-reset` (epoch seconds).
 */
export function describeGitHubFailure(error: unknown, now: number = Date.now()): GitHubFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    status?: unknown;
    message?: unknown;
    request?: { method?: unknown; url?: unknown };
    response?: { headers?: Record<string, unknown> };
  };
  const status = typeof e.status === "number" ? e.status : undefined;
  const method = typeof e.request?.method === "string" ? e.request.method : undefined;
  const url = typeof e.request?.url === "string" ? stripQuery(e.request.url) : undefined;
  const message = typeof e.message === "string" ? e.message.split("\n")[0]!.slice(0, 300) : String(error);
  const headers = e.response?.headers ?? {};
  const retryAfterMs = waitAskedFor(headers, now);
  const rateLimited =
    status === 429 ||
    (status === 403 &&
      (retryAfterMs !== undefined ||
        String(headers["x-ratelimit-remaining"]) === "0" ||
        /rate limit/i.test(message)));
  const transient = status === undefined || status >= 500 || status === 408 || rateLimited;
  return { transient, status, method, url, message, retryAfterMs };
}

function waitAskedFor(headers: Record<string, unknown>, now: number): number | undefined {
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0)
    return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS);
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset) && reset > 0)
    return Math.min(Math.max(0, reset * 1000 - now), MAX_RETRY_AFTER_MS);
  return undefined;
}

function stripQuery(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
