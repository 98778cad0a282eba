/** What the reporters tell the outbox (and the log) when GitHub or the store fails them. */
import type { Delivered } from "../outbox/drain-outbox.ts";
import type { Logger } from "../store/logger.ts";
import { describeGitHubFailure } from "./github-errors.ts";

export interface ReportFailures {
  /** Logs a failed GitHub call and tells the outbox whether (and when) to try again. */
  gitHubFailed(error: unknown, context: object): Delivered;
  /** The store could not be read or written: always worth trying again. */
  storeFailed(error: unknown, context: object): Delivered;
}

export function reportFailures(log: Pick<Logger, "warn" | "error">): ReportFailures {
  return {
    gitHubFailed(error, context) {
      const f = describeGitHubFailure(error);
      const fields = { ...context, method: f.method, url: f.url, status: f.status, err: f.message };
      if (f.transient) {
        log.warn(fields, "GitHub call failed (transient); the outbox will try again");
        return {
          ok: false,
          retryable: true,
          error: f.message,
          ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
        };
      }
      log.error(fields, `GitHub answered ${f.status ?? "an error"}; not retrying`);
      return { ok: false, retryable: false, error: f.message };
    },
    storeFailed(error, context) {
      log.warn({ ...context, err: String(error) }, "could not read or record what was reported");
      return { ok: false, retryable: true, error: String(error) };
    },
  };
}
