/**
 * Differential test: our raw-bytes verifier against `@octokit/webhooks`' own `Webhooks#verify` (what Probot
 * uses, with `additionalSecrets` for rotation) on the inputs both accept — a UTF-8 body.
 * The documented differences are asserted separately: ours takes upper-case hex and raw bytes.
 */
import { createHmac, randomBytes } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { describe, expect, it } from "vitest";
import { verifySignature } from "../../src/server/verify-signature.ts";

/**
 * `Webhooks#verify` checks only `secret` (its `additionalSecrets` are used by `verifyAndReceive` alone), so
 * rotation is "any of the secrets verifies".
 */
async function verifyWithFallback(secret: string, body: string, header: string, previous: string[]) {
  for (const s of [secret, ...previous])
    if (await new Webhooks({ secret: s }).verify(body, header)) return true;
  return false;
}

const sig = (secret: string, body: string | Buffer) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** Deterministic pseudo-random cases: bodies with multi-byte characters, every kind of header. */
function cases(): [string, string, string, string[]][] {
  const out: [string, string, string, string[]][] = [];
  const bodies = [
    '{"zen":"Keep it logically awesome."}',
    '{"ref":"refs/heads/main","emoji":"🚀 ünïcødé"}',
    "x",
  ];
  for (let i = 0; i < 40; i++)
    bodies.push(JSON.stringify({ i, noise: randomBytes(i * 7).toString("base64") }));
  for (const body of bodies) {
    const good = sig("current", body);
    const old = sig("previous", body);
    const headers = [
      good,
      old,
      sig("other", body),
      sig("current", `${body} `),
      good.slice(0, -1),
      `${good}0`,
      good.replace("sha256=", "sha1="),
      good.slice("sha256=".length),
      `sha256=${"g".repeat(64)}`,
    ];
    for (const header of headers) {
      out.push([body, header, "current", []]);
      out.push([body, header, "current", ["previous"]]);
    }
  }
  return out;
}

describe("verifySignature agrees with @octokit/webhooks", () => {
  const all = cases();
  it(`on ${all.length} (body, header, secrets) cases`, async () => {
    let accepted = 0;
    for (const [body, header, secret, previous] of all) {
      const theirs = await verifyWithFallback(secret, body, header, previous);
      const ours = verifySignature(Buffer.from(body, "utf8"), header, [secret, ...previous]);
      expect({ body, header, previous, ours }).toEqual({ body, header, previous, ours: theirs });
      if (ours) accepted++;
    }
    // The cases must exercise both answers: the current secret always, the previous one when configured.
    expect(accepted).toBe(43 * 2 + 43);
  });

  it("differs on purpose: upper-case hex is accepted by ours only", async () => {
    const body = '{"a":1}';
    const upper = `sha256=${sig("s", body).slice(7).toUpperCase()}`;
    expect(verifySignature(Buffer.from(body), upper, ["s"])).toBe(true);
    expect(await verifyWithFallback("s", body, upper, [])).toBe(false);
  });

  it("differs on purpose: ours verifies bytes that are not UTF-8, which a string API cannot", async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const header = sig("s", bytes);
    expect(verifySignature(bytes, header, ["s"])).toBe(true);
    // Decoding to a string replaces the invalid bytes, so the HMAC no longer matches.
    expect(await verifyWithFallback("s", bytes.toString("utf8"), header, [])).toBe(false);
  });
});
