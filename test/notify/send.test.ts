/** Sending one attempt to real receivers on 127.0.0.1: what comes back is classified as the contract says. */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { SlackMessage } from "../../src/notify/render-slack.ts";
import { loggableUrl, parseRetryAfter, retryDelayMs } from "../../src/notify/send-result.ts";
import { sendSlack } from "../../src/notify/send-slack.ts";
import { sendWebhook, webhookId, webhookSecretProblem } from "../../src/notify/send-webhook.ts";
import { type Answer, type HttpReceiver, startReceiver } from "../helpers/http-receiver.ts";

const message: SlackMessage = {
  text: "hello",
  blocks: [{ type: "section", text: { type: "mrkdwn", text: "hi" } }],
};
const secret = `whsec_${randomBytes(32).toString("base64")}`;
const receivers: HttpReceiver[] = [];
const receiver = async (script: Answer[]) => {
  const started = await startReceiver(script);
  receivers.push(started);
  return started;
};
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

describe("sendSlack (@slack/webhook)", () => {
  it("POSTs {text, blocks} as JSON and reports the answer", async () => {
    const r = await receiver([{ status: 200, body: "ok" }]);
    expect(await sendSlack(r.url, message)).toEqual({ ok: true, status: 200, answer: "ok" });
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]?.method).toBe("POST");
    expect(r.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r.requests[0]?.body ?? "")).toEqual(message);
  });

  it.each<[string, Answer, object]>([
    [
      "500 is retried",
      { status: 500, body: "oops" },
      { ok: false, retryable: true, status: 500, error: "HTTP 500: oops" },
    ],
    ["503 is retried", { status: 503 }, { ok: false, retryable: true, status: 503, error: "HTTP 503: no" }],
    [
      "429 is retried after its Retry-After",
      { status: 429, body: "rate_limited", headers: { "retry-after": "7" } },
      { ok: false, retryable: true, status: 429, retryAfterMs: 7000, error: "HTTP 429: rate_limited" },
    ],
    [
      "400 is not retried",
      { status: 400, body: "invalid_blocks" },
      { ok: false, retryable: false, status: 400, error: "HTTP 400: invalid_blocks" },
    ],
    [
      "404 is not retried",
      { status: 404, body: "no_service" },
      { ok: false, retryable: false, status: 404, error: "HTTP 404: no_service" },
    ],
  ])("%s", async (_title, answer, expected) => {
    const r = await receiver([answer]);
    expect(await sendSlack(r.url, message)).toEqual(expected);
    // One attempt only: retrying is the outbox's job, with the contract's schedule.
    expect(r.requests).toHaveLength(1);
  });

  it("a refused connection is a network error, retried", async () => {
    const r = await receiver([{ status: 200 }]);
    await r.close();
    const result = await sendSlack(r.url, message);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? "" : result.error).toMatch(/^network error: /);
  });
});

describe("sendWebhook (Standard Webhooks)", () => {
  it("signs so that a Standard Webhooks verifier accepts it", async () => {
    const r = await receiver([{ status: 204, body: "" }]);
    const body = JSON.stringify({ type: "run.failed", data: { run: { id: "r1" } } });
    const id = webhookId("audit:r1:failed");
    expect(await sendWebhook({ url: r.url, secret }, id, body)).toEqual({
      ok: true,
      status: 204,
      answer: "",
    });
    const request = r.requests[0];
    expect(request?.headers["webhook-id"]).toBe(id);
    expect(request?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toBe(body);
    expect(new Webhook(secret).verify(request?.body ?? "", request?.headers ?? {})).toEqual(JSON.parse(body));
    // Another secret, or a changed body, does not verify.
    expect(() =>
      new Webhook(`whsec_${randomBytes(32).toString("base64")}`).verify(body, request?.headers ?? {}),
    ).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, request?.headers ?? {})).toThrow();
  });

  it("does not follow redirects (a signed body goes only where it was configured to)", async () => {
    const target = await receiver([{ status: 200 }]);
    const r = await receiver([{ status: 307, headers: { location: target.url } }]);
    expect(await sendWebhook({ url: r.url, secret }, "msg_1", "{}")).toMatchObject({
      ok: false,
      retryable: false,
      status: 307,
    });
    expect(target.requests).toHaveLength(0);
  });

  it("429 with an HTTP-date Retry-After waits until then", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const r = await receiver([{ status: 429, headers: { "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" } }]);
    expect(await sendWebhook({ url: r.url, secret }, "msg_1", "{}", () => now)).toMatchObject({
      ok: false,
      retryable: true,
      retryAfterMs: 30_000,
    });
  });

  it("the webhook-id is derived from the notification's key: stable, distinct per key", () => {
    expect(webhookId("a:r1:failed")).toBe(webhookId("a:r1:failed"));
    expect(webhookId("a:r1:failed")).not.toBe(webhookId("a:r1:started"));
    expect(webhookId("a:r1:failed")).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
  });

  it.each([
    [secret, undefined],
    ["hunter2", 'not a Standard Webhooks secret: it must start with "whsec_"'],
    ["whsec_", "not a Standard Webhooks secret: the part after whsec_ must be base64"],
    ["whsec_c2hvcnQ=", "too short: use at least 24 random bytes (whsec_ + base64)"],
  ])("secret %j → %j", (value, problem) => {
    expect(webhookSecretProblem(value)).toBe(problem);
  });
});

describe("retry rules", () => {
  it("first retry within 5 s, the second within 30 s after it, then backing off to an hour", () => {
    expect(retryDelayMs(1)).toBeLessThanOrEqual(5_000);
    expect(retryDelayMs(2)).toBeLessThanOrEqual(30_000);
    const later = [3, 4, 5, 6, 7].map(retryDelayMs);
    expect(later).toEqual([...later].sort((a, b) => a - b));
    expect(retryDelayMs(6)).toBe(3_600_000);
    expect(retryDelayMs(100)).toBe(3_600_000);
  });

  it.each([
    ["5", 5000],
    ["0", 0],
    ["99999", 3_600_000],
    ["soon", undefined],
    ["Thu, 01 Jan 2026 00:00:10 GMT", 10_000],
    ["Wed, 31 Dec 2025 23:00:00 GMT", 0],
  ])("Retry-After %j → %j ms", (header, ms) => {
    expect(parseRetryAfter(header, new Date("2026-01-01T00:00:00Z"))).toBe(ms);
  });

  it("logs only the origin of a URL: a Slack webhook's path is its secret", () => {
    expect(loggableUrl("https://hooks.slack.com/services/T0/B0/XXXXSECRET")).toBe(
      "https://hooks.slack.com/…",
    );
    expect(loggableUrl("https://user:pw@audit.example.com:8443/hook?token=abc")).toBe(
      "https://audit.example.com:8443/…",
    );
    expect(loggableUrl("not a url")).toBe("(not a URL)");
  });
});
