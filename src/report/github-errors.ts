/** Telling transient GitHub API failures (retry later) from permanent ones (log and move on). */

export interface GitHubFailure {
  /** Worth trying again later: 5xx, rate limits (403/429), network errors. */
  readonly transient: boolean;
  readonly status: number | undefined;
  readonly method: string | undefined;
  /** The request URL (no credentials: the token travels in a header, never in the URL). */
  readonly url: string | undefined;
  readonly message: string;
}

/** Describes an error thrown by Octokit without ever including headers or bodies (they may hold tokens). */
export function describeGitHubFailure(error: unknown): GitHubFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    status?: unknown;
    message?: unknown;
    request?: { method?: unknown; url?: unknown };
  };
  const status = typeof e.status === "number" ? e.status : undefined;
  const method = typeof e.request?.method === "string" ? e.request.method : undefined;
  const url = typeof e.request?.url === "string" ? stripQuery(e.request.url) : undefined;
  const message = typeof e.message === "string" ? e.message.split("\n")[0]!.slice(0, 300) : String(error);
  const transient =
    status === undefined || status >= 500 || status === 429 || status === 403 || status === 408;
  return { transient, status, method, url, message };
}

function stripQuery(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
