/**
 * The pure decisions of a catch-up walk (README, "Missed deliveries"): how far back to look, where the next
 * page is, which listed deliveries to fetch (and in which order), and when to stop.
 */
import { CHECK_REQUEST_ACTIONS, isCheckRequestAction } from "../events/normalise-check-request.ts";
import { HANDLED_EVENTS } from "../events/webhook-events.ts";

/** One row of `GET /app/hook/deliveries`, narrowed to what the walk reads. */
export interface ListedDelivery {
  /** The delivery's id (for `GET /app/hook/deliveries/{id}`); every redelivery has its own. */
  readonly id: number;
  /** `X-GitHub-Delivery`: shared by a delivery and its redeliveries. */
  readonly guid: string;
  readonly event: string;
  /** The payload's `action` as the listing gives it (null for events without one, such as push). */
  readonly action?: string | null;
  readonly deliveredAt: Date;
}

/** GitHub.com keeps deliveries 3 days (GitHub Enterprise Server 7): the walk never looks further back. */
export const MAX_LOOK_BACK_MS = 3 * 24 * 60 * 60 * 1000;
/**
 * A walk starts again this long before where the last one ended: GitHub may list a delivery a little after
 * its `delivered_at`, and the clocks of the two sides differ. Recorded GUIDs are not fetched again.
 */
export const OVERLAP_MS = 10 * 60 * 1000;

/** The oldest `delivered_at` this walk looks at. */
export function walkStopAt(now: Date, walkedUntil: Date | null, maxLookBackMs = MAX_LOOK_BACK_MS): Date {
  const floor = now.getTime() - maxLookBackMs;
  if (walkedUntil === null) return new Date(floor);
  return new Date(Math.max(floor, Math.min(now.getTime(), walkedUntil.getTime() - OVERLAP_MS)));
}

/**
 * The `cursor` of the `rel="next"` link of a `Link` header, or undefined (no next page, or no cursor in it).
 * GitHub: `<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12345>; rel="next"`.
 */
export function nextCursor(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]*)>\s*;\s*rel="?([^";]*)"?/.exec(part.trim());
    if (!match || !match[2]!.split(/\s+/).includes("next")) continue;
    try {
      return new URL(match[1]!, "https://github.invalid").searchParams.get("cursor") ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export type PageStep =
  | { readonly next: "page"; readonly cursor: string }
  | { readonly next: "done"; readonly why: "window" | "last page" | "cursor loop" | "page limit" };

/**
 * After one page (newest first): go on to `cursor`, or stop because the page reached deliveries older than
 * the window, there is no next page, the cursor was already followed (a loop), or the walk read `maxPages`.
 */
export function afterPage(
  page: readonly ListedDelivery[],
  cursor: string | undefined,
  state: { readonly stopAt: Date; readonly seenCursors: ReadonlySet<string>; readonly pages: number },
  maxPages: number,
): PageStep {
  if (page.some((delivery) => delivery.deliveredAt < state.stopAt)) return { next: "done", why: "window" };
  if (page.length === 0 || cursor === undefined) return { next: "done", why: "last page" };
  if (state.seenCursors.has(cursor)) return { next: "done", why: "cursor loop" };
  if (state.pages >= maxPages) return { next: "done", why: "page limit" };
  return { next: "page", cursor };
}

export interface RecoveryPlan {
  /** One delivery per missed GUID (its first delivery), oldest first: pushes are accepted in the order made. */
  readonly fetch: readonly ListedDelivery[];
  /** Listed deliveries of events deploy-bot does not handle. */
  readonly unhandled: number;
  /** GUIDs the store has recorded (counted once per GUID). */
  readonly recorded: number;
  /** Missed GUIDs left for the next walk because of `maxFetches`. */
  readonly deferred: number;
}

/**
 * Which listed deliveries to fetch: inside the window, of a handled event (for check runs and suites only the
 * requests: the App's own check runs cause a `created` and a `completed` delivery each), GUID not recorded,
 * one per GUID (redeliveries share it), the oldest `maxFetches` of them, oldest first.
 */
export function planRecovery(
  listed: readonly ListedDelivery[],
  options: {
    readonly stopAt: Date;
    readonly recorded: ReadonlySet<string>;
    readonly maxFetches: number;
    readonly handled?: readonly string[];
  },
): RecoveryPlan {
  const handled = new Set<string>(options.handled ?? HANDLED_EVENTS);
  const firstByGuid = new Map<string, ListedDelivery>();
  const recordedGuids = new Set<string>();
  let unhandled = 0;
  for (const delivery of listed) {
    if (delivery.deliveredAt < options.stopAt) continue;
    if (!handled.has(delivery.event) || !handledAction(delivery)) {
      unhandled += 1;
      continue;
    }
    if (options.recorded.has(delivery.guid)) {
      recordedGuids.add(delivery.guid);
      continue;
    }
    const first = firstByGuid.get(delivery.guid);
    if (!first || earlier(delivery, first)) firstByGuid.set(delivery.guid, delivery);
  }
  const missed = [...firstByGuid.values()].sort((a, b) => (earlier(a, b) ? -1 : 1));
  const fetch = missed.slice(0, Math.max(0, options.maxFetches));
  return { fetch, unhandled, recorded: recordedGuids.size, deferred: missed.length - fetch.length };
}

/** What the store holds of a recorded delivery: its repository and ref, and whether it planned runs. */
export interface RecordedDelivery {
  readonly repo: string | null;
  readonly ref: string | null;
  readonly planned: boolean;
}

/** The branch, tag or pull request a delivery is about (`DeployEvent.ref`): what "newer" is judged by. */
export interface DeliveryTarget {
  readonly repo: string;
  readonly ref: string;
}

/**
 * True when a delivery GitHub made *after* `missed` (by its own `delivered_at`, no clock of ours involved),
 * for the same repository and ref, was already recorded with runs: recovering `missed` now would queue an
 * older commit after a newer one, and supersede the newer's queued runs.
 */
export function newerAccepted(
  missed: ListedDelivery,
  target: DeliveryTarget,
  listed: readonly ListedDelivery[],
  recorded: ReadonlyMap<string, RecordedDelivery>,
): boolean {
  return listed.some((other) => {
    if (!earlier(missed, other) || other.guid === missed.guid) return false;
    const known = recorded.get(other.guid);
    return known?.planned === true && known.repo === target.repo && known.ref === target.ref;
  });
}

const handledAction = (delivery: ListedDelivery) =>
  !CHECK_REQUEST_ACTIONS.has(delivery.event) || isCheckRequestAction(delivery.event, delivery.action);

function earlier(a: ListedDelivery, b: ListedDelivery): boolean {
  const diff = a.deliveredAt.getTime() - b.deliveredAt.getTime();
  return diff !== 0 ? diff < 0 : a.id < b.id;
}
