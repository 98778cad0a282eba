/**
 * The fake GitHub's record of the App's webhook deliveries, served as GitHub Enterprise Server serves them:
 * `GET /app/hook/deliveries` (newest first, `per_page`, cursor pagination through the `Link` header) and
 * `GET /app/hook/deliveries/{delivery_id}` (with the request's headers and payload). Every answer is checked
 * against the GHES 3.19 description's response schema; one that does not validate is a violation.
 *
 * Tests feed it with `made(...)`: "GitHub made this delivery" — acknowledged by the bot (`statusCode: 202`)
 * or not (the default: the bot was down, `502 failed to connect`). A redelivery has a new id and the same GUID.
 */
import { randomUUID } from "node:crypto";
import { ghesChecker } from "./openapi.ts";

export interface MadeDelivery {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly payload: Record<string, unknown>;
  readonly deliveredAt: Date;
  readonly statusCode: number;
  readonly redelivery: boolean;
}

export interface FakeDeliveries {
  /** Records a delivery GitHub made; returns it (its `guid` is the `X-GitHub-Delivery`). */
  made(
    event: string,
    payload: Record<string, unknown>,
    options?: { guid?: string; statusCode?: number; deliveredAt?: Date },
  ): MadeDelivery;
  /** Ids fetched through `GET /app/hook/deliveries/{id}`, in order. */
  readonly fetched: number[];
  /** Answers the two routes; undefined for any other path. */
  answer(
    method: string,
    parts: readonly string[],
    query: URLSearchParams,
    baseUrl: string,
  ): { status: number; json: unknown; headers?: Record<string, string> } | undefined;
}

export function fakeDeliveries(violations: string[]): FakeDeliveries {
  const made: MadeDelivery[] = [];
  const fetched: number[] = [];
  let nextId = 70_000;

  const itemJson = (d: MadeDelivery) => ({
    id: d.id,
    guid: d.guid,
    delivered_at: d.deliveredAt.toISOString().replace(/\.\d+Z$/, "Z"),
    redelivery: d.redelivery,
    duration: 0.02,
    status: d.statusCode === 502 ? "failed to connect" : "OK",
    status_code: d.statusCode,
    event: d.event,
    action: typeof d.payload.action === "string" ? d.payload.action : null,
    installation_id: Number((d.payload.installation as { id?: unknown } | undefined)?.id ?? 0) || null,
    repository_id: Number((d.payload.repository as { id?: unknown } | undefined)?.id ?? 0) || null,
    throttled_at: null,
  });

  const checked = (path: string, status: number, json: unknown) => {
    const verdict = ghesChecker().checkResponse("GET", path, status, json);
    if (!verdict.ok) violations.push(`GET ${path}: the fake's own answer: ${verdict.reason}`);
    return json;
  };

  return {
    fetched,
    made(event, payload, options = {}) {
      const guid = options.guid ?? randomUUID();
      const delivery: MadeDelivery = {
        id: nextId++,
        guid,
        event,
        payload: structuredClone(payload),
        deliveredAt: options.deliveredAt ?? new Date(),
        statusCode: options.statusCode ?? 502,
        redelivery: made.some((d) => d.guid === guid),
      };
      made.push(delivery);
      return delivery;
    },
    answer(method, parts, query, baseUrl) {
      if (method !== "GET" || parts[0] !== "app" || parts[1] !== "hook" || parts[2] !== "deliveries")
        return undefined;
      if (parts.length === 3) {
        const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
        const cursor = query.get("cursor");
        const newestFirst = [...made].sort((a, b) => b.id - a.id);
        const from = cursor === null ? 0 : newestFirst.findIndex((d) => `v1_${d.id}` === cursor);
        if (from < 0) return { status: 400, json: { message: "Bad cursor" } };
        const page = newestFirst.slice(from, from + perPage);
        const next = newestFirst[from + perPage];
        const headers: Record<string, string> = {};
        if (next)
          headers.link = `<${baseUrl}/api/v3/app/hook/deliveries?per_page=${perPage}&cursor=v1_${next.id}>; rel="next"`;
        return { status: 200, json: checked("/app/hook/deliveries", 200, page.map(itemJson)), headers };
      }
      if (parts.length === 4) {
        const delivery = made.find((d) => String(d.id) === parts[3]);
        if (!delivery) return { status: 404, json: { message: "Not Found" } };
        fetched.push(delivery.id);
        const json = {
          ...itemJson(delivery),
          url: "http://127.0.0.1/api/github/webhooks",
          request: {
            headers: {
              Accept: "*/*",
              "Content-Type": "application/json",
              "User-Agent": "GitHub-Hookshot/fake",
              "X-GitHub-Delivery": delivery.guid,
              "X-GitHub-Event": delivery.event,
              "X-GitHub-Hook-ID": "1",
            },
            payload: delivery.payload,
          },
          response: { headers: {}, payload: null },
        };
        return { status: 200, json: checked(`/app/hook/deliveries/${delivery.id}`, 200, json) };
      }
      return undefined;
    },
  };
}
