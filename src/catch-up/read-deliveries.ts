/**
 * The deliveries API's answers read once, at the edge: a page of `GET /app/hook/deliveries` into
 * `ListedDelivery` rows, and one `GET /app/hook/deliveries/{id}` into the `Delivery` the router takes. The
 * API is authenticated by the App's key, so its content is trusted as GitHub's; its shape is still checked.
 */
import type { Delivery } from "../events/delivery.ts";
import type { DeliveryTarget, ListedDelivery } from "./walk-plan.ts";

export type ReadPage =
  | { readonly ok: true; readonly deliveries: readonly ListedDelivery[]; readonly malformed: number }
  | { readonly ok: false; readonly reason: string };

/** The rows of one page; rows without an id, GUID, event or time are counted and left out. */
export function readDeliveryPage(data: unknown): ReadPage {
  if (!Array.isArray(data)) return { ok: false, reason: "the list of deliveries is not an array" };
  const deliveries: ListedDelivery[] = [];
  let malformed = 0;
  for (const row of data as unknown[]) {
    const item = (typeof row === "object" && row !== null ? row : {}) as Record<string, unknown>;
    const deliveredAt = typeof item.delivered_at === "string" ? new Date(item.delivered_at) : undefined;
    if (
      typeof item.id !== "number" ||
      !Number.isSafeInteger(item.id) ||
      typeof item.guid !== "string" ||
      item.guid === "" ||
      typeof item.event !== "string" ||
      deliveredAt === undefined ||
      Number.isNaN(deliveredAt.getTime())
    ) {
      malformed += 1;
      continue;
    }
    const action = typeof item.action === "string" ? item.action : null;
    deliveries.push({ id: item.id, guid: item.guid, event: item.event, action, deliveredAt });
  }
  return { ok: true, deliveries, malformed };
}

export type ReadDelivery =
  | { readonly ok: true; readonly delivery: Delivery }
  | { readonly ok: false; readonly reason: string };

/**
 * The delivery as the front door would have seen it: `X-GitHub-Event` and `X-GitHub-Delivery` from the
 * recorded request headers (they must agree with the listing), the payload as GitHub sent it.
 */
export function readFetchedDelivery(listed: ListedDelivery, data: unknown): ReadDelivery {
  const body = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  const request = (typeof body.request === "object" && body.request !== null ? body.request : {}) as Record<
    string,
    unknown
  >;
  const headers = request.headers;
  const payload = request.payload;
  if (typeof headers !== "object" || headers === null) return { ok: false, reason: "no request headers" };
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    return { ok: false, reason: "no JSON object payload" };
  const event = header(headers as Record<string, unknown>, "x-github-event");
  const guid = header(headers as Record<string, unknown>, "x-github-delivery");
  if (event !== listed.event)
    return { ok: false, reason: `X-GitHub-Event ${JSON.stringify(event)} is not ${listed.event}` };
  if (guid !== listed.guid)
    return { ok: false, reason: `X-GitHub-Delivery ${JSON.stringify(guid)} is not ${listed.guid}` };
  return { ok: true, delivery: { id: guid, name: event, payload } };
}

/** The repository and ref of a push or pull request payload (as `normalise-*` derives `ref`), else undefined. */
export function deliveryTarget(delivery: Delivery): DeliveryTarget | undefined {
  const payload = delivery.payload as Record<string, unknown>;
  const repo = (payload.repository as { full_name?: unknown } | null | undefined)?.full_name;
  if (typeof repo !== "string") return undefined;
  if (delivery.name === "push" && typeof payload.ref === "string") return { repo, ref: payload.ref };
  if (delivery.name === "pull_request" && Number.isSafeInteger(payload.number))
    return { repo, ref: `refs/pull/${payload.number as number}/head` };
  return undefined;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === name) return typeof value === "string" ? value : undefined;
  return undefined;
}
