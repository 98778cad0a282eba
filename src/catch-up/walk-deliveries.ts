/**
 * One catch-up walk: lists the App's webhook deliveries back to where the last walk ended, fetches each missed
 * delivery of a handled event, and hands it to the router as if it had just arrived (README, "Missed
 * deliveries"). Calls are spaced by `throttleMs`; any failing API answer (4xx, 5xx, rate limit, network) stops
 * the walk without moving its mark, so the next walk looks again. One log line per walk.
 */
import type { Delivery } from "../events/delivery.ts";
import type { DeliveryOutcome } from "../observe/metrics.ts";
import type { Logger } from "../store/logger.ts";
import { deliveryTarget, readDeliveryPage, readFetchedDelivery } from "./read-deliveries.ts";
import {
  afterPage,
  type ListedDelivery,
  newerAccepted,
  nextCursor,
  type PageStep,
  planRecovery,
  type RecordedDelivery,
  walkStopAt,
} from "./walk-plan.ts";

/** The slice of an App-authenticated (JWT) Octokit the walk uses: `octokit.request`. */
export interface DeliveriesClient {
  request(
    route: string,
    parameters?: Record<string, unknown>,
  ): Promise<{ status: number; headers: Record<string, unknown>; data: unknown }>;
}

export interface WalkDeps {
  readonly client: DeliveriesClient;
  /** Which of these GUIDs the store has recorded (with repository and ref). */
  readonly recorded: (guids: readonly string[]) => Promise<ReadonlyMap<string, RecordedDelivery>>;
  /** Records a delivery that is not recovered because a newer one for its ref was accepted (runs nothing). */
  readonly recordStale: (delivery: Delivery, reason: string) => Promise<void>;
  /** The front door's routing (`routeDelivery`); an accepted delivery counts as `recovered`. */
  readonly route: (delivery: Delivery) => Promise<DeliveryOutcome>;
  readonly logger: Pick<Logger, "info" | "warn">;
  readonly now?: () => Date;
  /** Pause between two API calls; default 250 ms. */
  readonly throttleMs?: number;
  /** Checked before every API call: true ends the walk (shutdown). */
  readonly stopping?: () => boolean;
  /** Default 30 pages of 100. */
  readonly maxPages?: number;
  /** Deliveries fetched per walk at most; the rest wait for the next walk. Default 300. */
  readonly maxFetches?: number;
}

export interface WalkResult {
  /** Where this walk ended (the newest delivery it listed), when the walk is complete; else null. */
  readonly walkedUntil: Date | null;
  /** Milliseconds the API asked us to wait (`Retry-After` / rate-limit reset), when it did. */
  readonly retryAfterMs?: number;
  readonly counts: WalkCounts;
}

export interface WalkCounts {
  pages: number;
  listed: number;
  unhandled: number;
  recorded: number;
  fetched: number;
  recovered: number;
  ignored: number;
  duplicate: number;
  /** Fetched, not run: a newer delivery for the same branch or pull request had been accepted already. */
  stale: number;
  /** Listed or fetched deliveries whose shape was not GitHub's; left out. */
  malformed: number;
  /** Listed deliveries GitHub no longer had (404/410 on fetch); left out. */
  gone: number;
  deferred: number;
}

export async function walkDeliveries(deps: WalkDeps, walkedUntil: Date | null): Promise<WalkResult> {
  const now = deps.now ?? (() => new Date());
  const throttleMs = deps.throttleMs ?? 250;
  const maxPages = deps.maxPages ?? 30;
  const counts: WalkCounts = {
    pages: 0,
    listed: 0,
    unhandled: 0,
    recorded: 0,
    fetched: 0,
    recovered: 0,
    ignored: 0,
    duplicate: 0,
    stale: 0,
    malformed: 0,
    gone: 0,
    deferred: 0,
  };
  const stopAt = walkStopAt(now(), walkedUntil);
  const started = Date.now();
  /** The first few malformed deliveries, named in the walk's one log line. */
  const problems: string[] = [];
  let calls = 0;
  const call = async (route: string, parameters: Record<string, unknown>) => {
    if (calls++ > 0 && throttleMs > 0) await sleep(throttleMs);
    if (deps.stopping?.()) throw new Error("the server is stopping");
    return deps.client.request(route, parameters);
  };
  const done = (result: Omit<WalkResult, "counts">, how: string, failure?: string): WalkResult => {
    const line = {
      ...counts,
      stopAt: stopAt.toISOString(),
      ms: Date.now() - started,
      how,
      failure,
      ...(problems.length > 0 ? { problems } : {}),
    };
    if (failure) deps.logger.warn(line, "catch-up walk stopped early; the next walk looks again");
    else deps.logger.info(line, "catch-up walk done");
    return { ...result, counts };
  };

  // 1. List, newest first, back to the window's edge.
  const listed: ListedDelivery[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  let step: PageStep;
  for (;;) {
    let page: Awaited<ReturnType<DeliveriesClient["request"]>>;
    try {
      page = await call("GET /app/hook/deliveries", { per_page: 100, ...(cursor ? { cursor } : {}) });
    } catch (error) {
      return done({ walkedUntil: null, ...retryAfter(error) }, "list", describe(error));
    }
    counts.pages += 1;
    if (cursor) seenCursors.add(cursor);
    const read = readDeliveryPage(page.data);
    if (!read.ok) return done({ walkedUntil: null }, "list", read.reason);
    counts.malformed += read.malformed;
    listed.push(...read.deliveries);
    step = afterPage(
      read.deliveries,
      nextCursor(headerOf(page.headers, "link")),
      { stopAt, seenCursors, pages: counts.pages },
      maxPages,
    );
    if (step.next === "done") break;
    cursor = step.cursor;
  }
  counts.listed = listed.length;

  // 2. Decide which to fetch: missed GUIDs of handled events, one each, oldest first.
  const inWindow = listed.filter((delivery) => delivery.deliveredAt >= stopAt);
  const recorded = await deps.recorded([...new Set(inWindow.map((delivery) => delivery.guid))]);
  const plan = planRecovery(inWindow, {
    stopAt,
    recorded: new Set(recorded.keys()),
    maxFetches: deps.maxFetches ?? 300,
  });
  counts.unhandled = plan.unhandled;
  counts.recorded = plan.recorded;
  counts.deferred = plan.deferred;

  // 3. Fetch each and route it as the front door would. Another walker or the front door may record a GUID
  //    meanwhile: the store's dedupe by delivery id answers `duplicate` and nothing runs twice.
  for (const missed of plan.fetch) {
    let fetched: Awaited<ReturnType<DeliveriesClient["request"]>>;
    try {
      fetched = await call("GET /app/hook/deliveries/{delivery_id}", { delivery_id: missed.id });
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 410) {
        counts.gone += 1;
        continue;
      }
      return done({ walkedUntil: null, ...retryAfter(error) }, "fetch", describe(error));
    }
    counts.fetched += 1;
    const read = readFetchedDelivery(missed, fetched.data);
    if (!read.ok) {
      counts.malformed += 1;
      if (problems.length < MAX_PROBLEMS) problems.push(`${missed.guid}: ${read.reason}`);
      continue;
    }
    let outcome: DeliveryOutcome;
    try {
      const target = deliveryTarget(read.delivery);
      if (target && newerAccepted(missed, target, inWindow, recorded)) {
        await deps.recordStale(
          read.delivery,
          `recovered after a newer delivery for ${target.ref} had been accepted: not run`,
        );
        counts.stale += 1;
        continue;
      }
      outcome = await deps.route(read.delivery);
    } catch (error) {
      return done({ walkedUntil: null }, "route", `routing ${missed.guid} failed: ${describe(error)}`);
    }
    if (outcome === "duplicate") counts.duplicate += 1;
    else if (outcome === "recovered" || outcome === "accepted") counts.recovered += 1;
    else counts.ignored += 1;
  }

  const complete = step.why !== "cursor loop" && step.why !== "page limit" && plan.deferred === 0;
  const newest = listed.reduce<Date | null>(
    (max, delivery) => (max === null || delivery.deliveredAt > max ? delivery.deliveredAt : max),
    null,
  );
  return done(
    { walkedUntil: complete ? (newest ?? walkedUntil ?? stopAt) : null },
    step.why,
    complete ? undefined : step.why === "page limit" || step.why === "cursor loop" ? step.why : undefined,
  );
}

function headerOf(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === "string" ? value : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** `Retry-After` (seconds) or `x-ratelimit-reset` (epoch seconds) of a failed answer, in ms. */
function retryAfter(error: unknown): { retryAfterMs?: number } {
  const headers = ((error as { response?: { headers?: Record<string, unknown> } } | null)?.response
    ?.headers ?? {}) as Record<string, unknown>;
  const after = Number(headers["retry-after"]);
  if (Number.isFinite(after) && after >= 0) return { retryAfterMs: after * 1000 };
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) return { retryAfterMs: Math.max(0, reset * 1000 - Date.now()) };
  }
  return {};
}

function describe(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error);
  return status === undefined ? message : `${status}: ${message}`;
}

const MAX_PROBLEMS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
