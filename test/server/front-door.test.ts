import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createFrontDoor } from "../../src/server/front-door.ts";
import { signatureFor } from "../../src/server/verify-signature.ts";
import { type Harness, request, SECRET, startFrontDoor, WEBHOOK_PATH } from "./front-door-harness.ts";
import { pushExample } from "./push-example.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const signedHeaders = (body: string, extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-github-event": "push",
  "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "x-hub-signature-256": signatureFor(body, SECRET),
  ...extra,
});

describe("front door", () => {
  it("hands a verified delivery to onDelivery with the exact payload and raw bytes, and sends its answer", async () => {
    harness = await startFrontDoor();
    const payload = pushExample();
    const body = JSON.stringify(payload);
    const res = await fetch(`${harness.url}${WEBHOOK_PATH}`, {
      method: "POST",
      headers: signedHeaders(body),
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("accepted");
    expect(harness.deliveries).toHaveLength(1);
    const delivery = harness.deliveries[0]!;
    expect(delivery.id).toBe("72d3162e-cc78-11e3-81ab-4c9367dc0958");
    expect(delivery.name).toBe("push");
    expect(delivery.payload).toEqual(payload);
    expect(delivery.rawBody.toString()).toBe(body);
    expect(harness.logs).toEqual([]);
  });

  it("accepts a JSON content type with parameters", async () => {
    harness = await startFrontDoor();
    const body = '{"zen":"Keep it logically awesome."}';
    const res = await request(harness.port, {
      headers: signedHeaders(body, {
        "content-type": "application/json; charset=utf-8",
        "x-github-event": "ping",
      }),
      body,
    });
    expect(res.status).toBe(202);
    expect(harness.deliveries[0]?.payload).toEqual({ zen: "Keep it logically awesome." });
  });

  it("passes onDelivery's status through, and answers 500 with a short body when it throws, logged once", async () => {
    let fail = false;
    harness = await startFrontDoor({
      onDelivery: async () => {
        if (fail) throw new Error("store is down");
        return { status: 200, body: "ignored: no rule matches" };
      },
    });
    const body = "{}";
    const ok = await request(harness.port, { headers: signedHeaders(body), body });
    expect([ok.status, ok.body]).toEqual([200, "ignored: no rule matches"]);
    fail = true;
    const failed = await request(harness.port, { headers: signedHeaders(body), body });
    expect(failed.status).toBe(500);
    expect(failed.body).toBe("internal error\n");
    expect(failed.body).not.toContain("store is down");
    const errors = harness.logs.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe("webhook delivery handler failed");
  });

  it("answers GET /ping with PONG only once ready", async () => {
    let ready = false;
    harness = await startFrontDoor({ isReady: () => ready });
    const before = await fetch(`${harness.url}/ping`);
    expect(before.status).toBe(503);
    ready = true;
    const after = await fetch(`${harness.url}/ping`);
    expect([after.status, await after.text()]).toEqual([200, "PONG"]);
  });

  it("serves extra routes, 404s the rest, refuses other methods on the webhook path", async () => {
    harness = await startFrontDoor({
      routes: (req, res) => {
        if (req.url !== "/runs/abc") return false;
        res.writeHead(200, { "content-type": "text/plain" }).end("run abc");
        return true;
      },
    });
    const run = await fetch(`${harness.url}/runs/abc`);
    expect([run.status, await run.text()]).toEqual([200, "run abc"]);
    expect((await fetch(`${harness.url}/runs/nope`)).status).toBe(404);
    const get = await fetch(`${harness.url}${WEBHOOK_PATH}`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(harness.deliveries).toEqual([]);
  });

  it("answers 400 without the event or delivery header and 415 for a non-JSON body", async () => {
    harness = await startFrontDoor();
    const body = "{}";
    const noEvent = signedHeaders(body) as Record<string, string>;
    delete noEvent["x-github-event"];
    expect((await request(harness.port, { headers: noEvent, body })).status).toBe(400);
    const noId = signedHeaders(body) as Record<string, string>;
    delete noId["x-github-delivery"];
    expect((await request(harness.port, { headers: noId, body })).status).toBe(400);
    const form = signedHeaders(body, { "content-type": "application/x-www-form-urlencoded" });
    expect((await request(harness.port, { headers: form, body })).status).toBe(415);
    expect(harness.deliveries).toEqual([]);
  });

  it("keeps connections alive across deliveries and refusals", async () => {
    harness = await startFrontDoor();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = "{}";
    for (let i = 0; i < 5; i++) {
      await request(harness.port, { headers: signedHeaders(body), body, agent });
      await request(harness.port, {
        headers: signedHeaders(body, { "x-hub-signature-256": "sha256=00" }),
        body,
        agent,
      });
    }
    agent.destroy();
    expect(harness.deliveries).toHaveLength(5);
    expect(harness.sockets).toHaveLength(1);
  });

  it("refuses to be created without a non-empty secret", () => {
    const logger = { info() {}, warn() {}, error() {} };
    const make = (secrets: string[]) =>
      createFrontDoor({
        webhookPath: "/",
        secrets,
        logger,
        onDelivery: async () => ({ status: 200, body: "" }),
      });
    expect(() => make([])).toThrow(/secret/);
    expect(() => make([""])).toThrow(/secret/);
  });

  it("sets header and request timeouts against slow clients", () => {
    const server = createFrontDoor({
      webhookPath: "/",
      secrets: ["x"],
      logger: { info() {}, warn() {}, error() {} },
      onDelivery: async () => ({ status: 200, body: "" }),
    });
    expect(server.headersTimeout).toBeGreaterThan(0);
    expect(server.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(server.requestTimeout).toBeGreaterThan(0);
    expect(server.requestTimeout).toBeLessThanOrEqual(60_000);
    server.close();
  });
});
