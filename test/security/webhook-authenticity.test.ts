import { createHmac } from "node:crypto";
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { signatureFor } from "../../src/server/verify-signature.ts";
import {
  type Harness,
  PREVIOUS_SECRET,
  request,
  SECRET,
  startFrontDoor,
  uploadLarge,
} from "../server/front-door-harness.ts";
import { pushExample } from "../server/push-example.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const MARKER = "PAYLOAD-MARKER-7f3a";
const body = JSON.stringify({ ...pushExample(), marker: MARKER });
const baseHeaders = {
  "content-type": "application/json",
  "x-github-event": "push",
  "x-github-delivery": "d1e2f3a4-0000-11e3-81ab-4c9367dc0958",
};

/** Every log call rendered as one line the way a JSON logger would, with its message. */
const renderedLogs = (h: Harness) => h.logs.map((l) => JSON.stringify({ ...l.obj, msg: l.msg }));

function expectNothingLeaked(h: Harness): void {
  expect(h.deliveries).toEqual([]);
  for (const line of renderedLogs(h)) {
    expect(line).not.toContain(MARKER);
    expect(line).not.toContain("sha256=");
    expect(line.length).toBeLessThan(200);
  }
}

describe("webhook authenticity", () => {
  it("refuses an unsigned request with 401", async () => {
    harness = await startFrontDoor();
    const res = await request(harness.port, { headers: baseHeaders, body });
    expect(res.status).toBe(401);
    expectNothingLeaked(harness);
  });

  it("refuses a request signed with another secret with 401", async () => {
    harness = await startFrontDoor();
    const res = await request(harness.port, {
      headers: { ...baseHeaders, "x-hub-signature-256": signatureFor(body, "guessed-secret") },
      body,
    });
    expect(res.status).toBe(401);
    expectNothingLeaked(harness);
  });

  it("refuses a request carrying only a valid sha1 X-Hub-Signature with 401", async () => {
    harness = await startFrontDoor();
    const sha1 = `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
    const res = await request(harness.port, { headers: { ...baseHeaders, "x-hub-signature": sha1 }, body });
    expect(res.status).toBe(401);
    expectNothingLeaked(harness);
  });

  it("refuses a replayed valid signature over a changed body with 401", async () => {
    harness = await startFrontDoor();
    const signature = signatureFor(body, SECRET);
    const genuine = await request(harness.port, {
      headers: { ...baseHeaders, "x-hub-signature-256": signature },
      body,
    });
    expect(genuine.status).toBe(202);
    const changed = body.replace('"refs/heads/master"', '"refs/heads/production"');
    expect(changed).not.toBe(body);
    const res = await request(harness.port, {
      headers: { ...baseHeaders, "x-hub-signature-256": signature },
      body: changed,
    });
    expect(res.status).toBe(401);
    expect(harness.deliveries).toHaveLength(1);
    expect((harness.deliveries[0]!.payload as { ref: string }).ref).toBe("refs/heads/master");
  });

  it("accepts the previous secret during a rotation, and refuses it once it is removed", async () => {
    const signedWithPrevious = { ...baseHeaders, "x-hub-signature-256": signatureFor(body, PREVIOUS_SECRET) };
    harness = await startFrontDoor({ secrets: [SECRET, PREVIOUS_SECRET] });
    expect((await request(harness.port, { headers: signedWithPrevious, body })).status).toBe(202);
    expect(harness.deliveries).toHaveLength(1);
    await harness.close();

    harness = await startFrontDoor({ secrets: [SECRET] });
    expect((await request(harness.port, { headers: signedWithPrevious, body })).status).toBe(401);
    expectNothingLeaked(harness);
  });

  it("answers 400 to malformed JSON with a valid signature, without calling onDelivery", async () => {
    harness = await startFrontDoor();
    const broken = `${body.slice(0, -1)},`;
    const res = await request(harness.port, {
      headers: { ...baseHeaders, "x-hub-signature-256": signatureFor(broken, SECRET) },
      body: broken,
    });
    expect(res.status).toBe(400);
    expectNothingLeaked(harness);
  });

  describe("26 MB body", () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 0x20);
    Buffer.from(`{"marker":"${MARKER}","padding":"`).copy(big, 0);
    Buffer.from('"}').copy(big, big.length - 2);
    // Validly signed: without the cap the server would accept it.
    const headers = { ...baseHeaders, "x-hub-signature-256": signatureFor(big, SECRET) };

    it("is refused with 413 from its Content-Length, before the body is read", async () => {
      harness = await startFrontDoor();
      const result = await uploadLarge(harness.port, headers, big, "content-length");
      expect(result.status).toBe(413);
      expect(result.writtenAtResponse).toBeLessThan(result.total);
      const serverRead = harness.sockets.reduce((n, s) => n + s.bytesRead, 0);
      expect(serverRead).toBeLessThan(2 * 1024 * 1024);
      expectNothingLeaked(harness);
    });

    it("is refused with 413 while streaming when chunked, and the rest is never read", async () => {
      harness = await startFrontDoor();
      const result = await uploadLarge(harness.port, headers, big, "chunked");
      expect(result.status).toBe(413);
      const serverRead = harness.sockets.reduce((n, s) => n + s.bytesRead, 0);
      // The server stops within a few chunks of the 25 MiB cap, never reaching the 26 MiB end.
      expect(serverRead).toBeLessThan(25 * 1024 * 1024 + 512 * 1024);
      expectNothingLeaked(harness);
    });

    it("answers 413 to a much longer chunked stream before the client has finished sending it", async () => {
      harness = await startFrontDoor();
      const huge = Buffer.alloc(80 * 1024 * 1024, 0x20);
      const result = await uploadLarge(
        harness.port,
        { ...baseHeaders, "x-hub-signature-256": signatureFor(huge, SECRET) },
        huge,
        "chunked",
      );
      expect(result.status).toBe(413);
      expect(result.writtenAtResponse).toBeLessThan(result.total);
      const serverRead = harness.sockets.reduce((n, s) => n + s.bytesRead, 0);
      expect(serverRead).toBeLessThan(30 * 1024 * 1024);
      expectNothingLeaked(harness);
    });
  });

  it("logs short, rate-limited lines for 1,000 bad requests and accounts for every one", async () => {
    harness = await startFrontDoor();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const headers = {
        ...baseHeaders,
        "x-github-delivery": `${"d".repeat(300)}-${i}`,
        "x-hub-signature-256": signatureFor(body, `wrong-${i}`),
        "x-junk": MARKER.repeat(20),
      };
      requests.push(request(harness.port, { headers, body, agent }));
    }
    const responses = (await Promise.all(requests)) as { status: number }[];
    agent.destroy();
    expect(responses.every((r) => r.status === 401)).toBe(true);
    await harness.close();
    const h = harness;
    harness = undefined;

    const lines = h.logs.filter((l) => l.msg === "webhook rejected");
    const summaries = h.logs.filter((l) => l.msg === "more webhook requests rejected");
    expect(lines.length + summaries.length).toBeLessThanOrEqual(20);
    const summarised = summaries.reduce((n, l) => n + (l.obj as { count: number }).count, 0);
    expect(lines.length + summarised).toBe(1000);
    expectNothingLeaked(h);
  });
});
