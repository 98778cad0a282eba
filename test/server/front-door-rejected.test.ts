import { afterEach, describe, expect, it } from "vitest";
import type { RejectionReason } from "../../src/server/rejection-log.ts";
import { signatureFor } from "../../src/server/verify-signature.ts";
import { type Harness, SECRET, startFrontDoor, WEBHOOK_PATH } from "./front-door-harness.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const headers = (body: string, extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-github-event": "push",
  "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "x-hub-signature-256": signatureFor(body, SECRET),
  ...extra,
});

describe("front door: onRejected (for the rejected-deliveries metric)", () => {
  it.each<[string, RequestInit, RejectionReason]>([
    ["a GET", { method: "GET", headers: headers("") }, "method-not-allowed"],
    [
      "a bad signature",
      { method: "POST", headers: headers("{}", { "x-hub-signature-256": "sha256=00" }), body: "{}" },
      "bad-signature",
    ],
    ["malformed JSON", { method: "POST", headers: headers("{"), body: "{" }, "malformed-json"],
    [
      "another content type",
      { method: "POST", headers: headers("{}", { "content-type": "text/plain" }), body: "{}" },
      "unsupported-content-type",
    ],
  ])("is told of %s, with the event header", async (_, init, reason) => {
    const rejected: [string | undefined, RejectionReason][] = [];
    harness = await startFrontDoor({ onRejected: (event, why) => rejected.push([event, why]) });
    await (await fetch(`${harness.url}${WEBHOOK_PATH}`, init)).text();
    expect(rejected).toEqual([["push", reason]]);
    expect(harness.deliveries).toEqual([]);
  });

  it("is not told of a delivery it accepts", async () => {
    const rejected: unknown[] = [];
    harness = await startFrontDoor({ onRejected: (event) => rejected.push(event) });
    const response = await fetch(`${harness.url}${WEBHOOK_PATH}`, {
      method: "POST",
      headers: headers("{}"),
      body: "{}",
    });
    expect(response.status).toBe(202);
    expect(rejected).toEqual([]);
  });
});
