import type { Logger } from "../store/logger.ts";

/** Why a webhook request was refused; short, fixed words so a log line stays short. */
export type RejectionReason =
  | "method-not-allowed"
  | "missing-signature"
  | "missing-headers"
  | "unsupported-content-type"
  | "too-large"
  | "bad-signature"
  | "malformed-json"
  | "aborted";

export interface RejectionLog {
  /** Records one refused request; logs at most one line per reason per interval. */
  reject(reason: RejectionReason, remoteAddress: string | undefined, deliveryId: string | undefined): void;
  /** Logs one "N more rejected" line per reason whose lines were suppressed since its last line. */
  flush(): void;
  /** Lines held back so far and not yet summarised (for tests and metrics). */
  pending(): number;
}

export interface RejectionLogOptions {
  /** Minimum time between two full lines of the same reason; default 1000 ms. */
  intervalMs?: number;
  now?: () => number;
}

const MAX_ID = 40;
const MAX_ADDRESS = 46;

/** Keeps attacker-chosen text short and printable before it reaches a log. */
function clip(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  return value.replace(/[^\w.:-]/g, "?").slice(0, max);
}

/**
 * Rate-limited logging of refused webhook requests.
 *
 * Why: an unauthenticated sender controls how many requests arrive and what they contain; if each one
 * produced a log line with headers or payload, a flood would turn into disk and CPU load (a stock Probot app
 * logs ~29 KB per bad request). Here each reason gets at most one short line (< 200 bytes: reason, remote
 * address, delivery id clipped to 40 chars) per interval; the rest are counted and summarised by `flush`.
 */
export function createRejectionLog(
  logger: Pick<Logger, "warn">,
  options: RejectionLogOptions = {},
): RejectionLog {
  const intervalMs = options.intervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const lastLine = new Map<RejectionReason, number>();
  const suppressed = new Map<RejectionReason, number>();
  let pendingTotal = 0;

  return {
    reject(reason, remoteAddress, deliveryId) {
      const t = now();
      const last = lastLine.get(reason);
      if (last !== undefined && t - last < intervalMs) {
        suppressed.set(reason, (suppressed.get(reason) ?? 0) + 1);
        pendingTotal++;
        return;
      }
      lastLine.set(reason, t);
      logger.warn(
        { reason, remote: clip(remoteAddress, MAX_ADDRESS), delivery: clip(deliveryId, MAX_ID) },
        "webhook rejected",
      );
    },
    flush() {
      for (const [reason, count] of suppressed) {
        if (count > 0) logger.warn({ reason, count }, "more webhook requests rejected");
      }
      suppressed.clear();
      pendingTotal = 0;
    },
    pending: () => pendingTotal,
  };
}
