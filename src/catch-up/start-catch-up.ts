/**
 * The catch-up schedule: a walk at start-up, then one every `CATCH_UP_INTERVAL` (or later, when GitHub asked
 * us to wait). A walk runs only while this process holds the store's walk lease, so two servers never both
 * fetch; where a completed walk ended is kept in the store for the next one, on any server.
 */
import { randomBytes } from "node:crypto";
import type { CatchUpState } from "../store/catch-up-state.ts";
import type { Logger } from "../store/logger.ts";
import { type WalkDeps, type WalkResult, walkDeliveries } from "./walk-deliveries.ts";

export interface CatchUpOptions extends Omit<WalkDeps, "stopping" | "recorded" | "recordStale"> {
  readonly state: CatchUpState;
  readonly intervalMs: number;
  readonly logger: Pick<Logger, "info" | "warn">;
  /**
   * How long the lease lasts unless renewed; default 30 s. A walk renews it every third of that while it
   * runs, so a server killed mid-walk (`kill -9`) blocks the others' walks for at most this long.
   */
  readonly leaseMs?: number;
}

export interface CatchUp {
  /** Walks now (unless a walk is under way); resolves with its result, or null when none ran. */
  walkNow(): Promise<WalkResult | null>;
  /** Ends the schedule; an ongoing walk stops before its next API call. */
  stop(): Promise<void>;
}

/** How long `stop()` waits for a walk under way. */
const STOP_WAIT_MS = 5000;

export function startCatchUp(options: CatchUpOptions): CatchUp {
  const owner = `catch-up:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = options.leaseMs ?? 30_000;
  let stopped = false;
  let walking: Promise<WalkResult | null> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const walkOnce = async (): Promise<WalkResult | null> => {
    const lease = await options.state.takeLease(owner, leaseMs);
    if (!lease.taken) {
      options.logger.info({}, "catch-up walk skipped: another server is walking");
      return null;
    }
    let walkedUntil: Date | null = null;
    // Renew while walking; a lease lost meanwhile (this process stalled past it) ends the walk early.
    let lost = false;
    const renew = setInterval(() => {
      options.state.takeLease(owner, leaseMs).then(
        (again) => {
          if (!again.taken) lost = true;
        },
        () => {},
      );
    }, leaseMs / 3);
    renew.unref();
    try {
      const result = await walkDeliveries(
        {
          ...options,
          recorded: (guids) => options.state.recordedDeliveries(guids),
          recordStale: (delivery, reason) => options.state.recordStale(delivery, reason),
          stopping: () => stopped || lost,
        },
        lease.walkedUntil,
      );
      walkedUntil = result.walkedUntil;
      return result;
    } finally {
      clearInterval(renew);
      await options.state.releaseLease(owner, walkedUntil);
    }
  };

  const walkNow = (): Promise<WalkResult | null> => {
    walking ??= walkOnce()
      .catch((error: unknown) => {
        options.logger.warn({ err: String(error) }, "catch-up walk failed; the next walk looks again");
        return null;
      })
      .finally(() => {
        walking = undefined;
      });
    return walking;
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      void walkNow().then((result) => schedule(Math.max(options.intervalMs, result?.retryAfterMs ?? 0)));
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    walkNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A walk stops before its next call; one call may still wait out a rate limit inside Octokit: not for long.
      let bounded: NodeJS.Timeout | undefined;
      await Promise.race([
        walking,
        new Promise((resolve) => {
          bounded = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(bounded);
    },
  };
}
