import { describe, expect, it } from "vitest";
import { createMasker, maskText } from "../../src/exec/mask-secrets.ts";

const streamed = (chunks: string[], values: Parameters<typeof createMasker>[0]) => {
  const masker = createMasker(values);
  return chunks.map((c) => masker.push(c)).join("") + masker.flush();
};

describe("createMasker", () => {
  it("masks a secret split at every possible position", () => {
    const secret = "correct-horse-battery";
    const text = `a ${secret} b ${secret}`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed([text.slice(0, cut), text.slice(cut)], { secrets: [secret] })).toBe("a *** b ***");
    }
  });

  it("masks across many one-character chunks and prefers the longest secret", () => {
    const text = "x=abcdefgh y=abcd";
    expect(streamed([...text], { secrets: ["abcd", "abcdefgh"] })).toBe("x=*** y=***");
  });

  it("ignores secrets shorter than 4 characters but always masks tokens and their basic-auth form", () => {
    const basic = Buffer.from("x-access-token:t1").toString("base64");
    expect(streamed(["yes t1 ", basic], { secrets: ["yes"], tokens: ["t1"] })).toBe("yes *** ***");
  });

  it("masks the lines of a multi-line secret separately", () => {
    expect(maskText("line-two-of-key", { secrets: ["line-one-of-key\nline-two-of-key"] })).toBe("***");
  });

  it("passes text through untouched without secrets", () => {
    expect(streamed(["a", "b"], {})).toBe("ab");
  });
});
