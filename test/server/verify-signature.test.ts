import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureFor, verifySignature } from "../../src/server/verify-signature.ts";

const body = Buffer.from('{"hello":"world"}');
const hex = (secret: string, data: Buffer | string = body) =>
  createHmac("sha256", secret).update(data).digest("hex");

describe("verifySignature", () => {
  it("accepts the sha256 HMAC of the raw bytes", () => {
    expect(verifySignature(body, `sha256=${hex("s3cret")}`, ["s3cret"])).toBe(true);
    expect(signatureFor(body, "s3cret")).toBe(`sha256=${hex("s3cret")}`);
  });

  it("accepts upper-case hex", () => {
    expect(verifySignature(body, `sha256=${hex("s3cret").toUpperCase()}`, ["s3cret"])).toBe(true);
  });

  it("refuses a missing header, another secret, another body", () => {
    expect(verifySignature(body, undefined, ["s3cret"])).toBe(false);
    expect(verifySignature(body, `sha256=${hex("other")}`, ["s3cret"])).toBe(false);
    expect(verifySignature(Buffer.from('{"hello":"World"}'), `sha256=${hex("s3cret")}`, ["s3cret"])).toBe(
      false,
    );
  });

  it("refuses sha1 and malformed values without throwing", () => {
    const sha1 = createHmac("sha1", "s3cret").update(body).digest("hex");
    expect(verifySignature(body, `sha1=${sha1}`, ["s3cret"])).toBe(false);
    expect(verifySignature(body, hex("s3cret"), ["s3cret"])).toBe(false);
    expect(verifySignature(body, `sha256=${hex("s3cret").slice(0, 62)}`, ["s3cret"])).toBe(false);
    expect(verifySignature(body, `sha256=${hex("s3cret")}00`, ["s3cret"])).toBe(false);
    expect(verifySignature(body, `sha256=${"z".repeat(64)}`, ["s3cret"])).toBe(false);
    expect(verifySignature(body, "sha256=", ["s3cret"])).toBe(false);
  });

  it("accepts any configured secret (rotation) and only those", () => {
    expect(verifySignature(body, `sha256=${hex("old")}`, ["new", "old"])).toBe(true);
    expect(verifySignature(body, `sha256=${hex("new")}`, ["new", "old"])).toBe(true);
    expect(verifySignature(body, `sha256=${hex("old")}`, ["new"])).toBe(false);
  });

  it("never verifies with an empty secret or no secret", () => {
    expect(verifySignature(body, `sha256=${hex("")}`, [""])).toBe(false);
    expect(verifySignature(body, `sha256=${hex("")}`, [])).toBe(false);
  });
});
