/**
 * How the GitHub client retries, configured on purpose instead of inherited by accident.
 *
 * Probot's `ProbotOctokit` already carries `@octokit/plugin-throttling` and `@octokit/plugin-retry`, but Probot
 * replaces the throttle handlers with its own (rate limit: retry ≤ 2 times; secondary rate limit: never
 * retried), and an instance `throttle` option given to `new Probot({ Octokit })` would be overridden again.
 * `withReliableDefaults(ProbotOctokit)` returns a class that forces these options on every instance:
 *
 * - primary rate limit (`403`/`429` with `x-ratelimit-remaining: 0`): wait `retry-after`/reset, retry ≤ 2 times;
 * - secondary rate limit: wait `retry-after` (GitHub's answer, else 60 s), retry ≤ 2 times;
 * - other 5xx / network errors: the retry plugin retries 3 times, waiting 1 s, 4 s, 9 s;
 *   4xx answers (400, 401, 403, 404, 410, 422, 451) are never retried.
 *
 * What still fails after that is retried later through the outbox (see `github-reporter.ts`, `src/outbox/`).
 * Wiring: `new Probot({ ..., Octokit: withReliableDefaults(ProbotOctokit) })` (or `createProbot({ overrides })`).
 */
import type { Logger } from "../store/logger.ts";

/** Options for `@octokit/plugin-throttling` and `@octokit/plugin-retry`. */
export interface ReliabilityOptions {
  readonly throttle: {
    readonly enabled: true;
    readonly retryAfterBaseValue?: number;
    readonly onRateLimit: (
      retryAfter: number,
      options: RequestInfo,
      octokit: unknown,
      retryCount: number,
    ) => boolean;
    readonly onSecondaryRateLimit: (
      retryAfter: number,
      options: RequestInfo,
      octokit: unknown,
      retryCount: number,
    ) => boolean;
  };
  readonly retry: {
    readonly enabled: true;
    readonly retries: number;
    readonly retryAfterBaseValue: number;
    readonly doNotRetry: number[];
  };
}

interface RequestInfo {
  readonly method: string;
  readonly url: string;
}

/** Rate-limit retries per request; after that the outbox's own, slower retry takes over. */
export const RATE_LIMIT_RETRIES = 2;

/**
 * The throttle and retry options described above. `baseDelayMs` scales every wait (1000 = real seconds);
 * tests pass a few milliseconds.
 */
export function createOctokitOptions(log: Pick<Logger, "warn">, baseDelayMs = 1000): ReliabilityOptions {
  const handler =
    (kind: string) =>
    (retryAfter: number, options: RequestInfo, _octokit: unknown, retryCount: number): boolean => {
      const retry = retryCount < RATE_LIMIT_RETRIES;
      log.warn(
        { method: options.method, url: options.url, retryAfter, retryCount, retry },
        `GitHub ${kind} rate limit hit`,
      );
      return retry;
    };
  return {
    throttle: {
      enabled: true,
      retryAfterBaseValue: baseDelayMs,
      onRateLimit: handler("primary"),
      onSecondaryRateLimit: handler("secondary"),
    },
    retry: {
      enabled: true,
      retries: 3,
      retryAfterBaseValue: baseDelayMs,
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
  };
}

interface OctokitClass<T> {
  // biome-ignore lint/suspicious/noExplicitAny: Octokit's own `defaults` signature
  defaults(defaults: (options: any) => any): T;
}

/**
 * A subclass of `Base` (e.g. `ProbotOctokit`) whose instances always use `createOctokitOptions(log)`, whatever
 * throttle options Probot passes in.
 */
export function withReliableDefaults<T>(
  Base: OctokitClass<T>,
  log: Pick<Logger, "warn">,
  baseDelayMs = 1000,
): T {
  const reliability = createOctokitOptions(log, baseDelayMs);
  return Base.defaults((options: Record<string, unknown>) => ({
    ...options,
    throttle: { ...(options.throttle as object | undefined), ...reliability.throttle },
    retry: { ...(options.retry as object | undefined), ...reliability.retry },
  }));
}
