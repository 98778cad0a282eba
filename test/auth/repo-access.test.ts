import { describe, expect, it } from "vitest";
import { cachedRepoAccess } from "../../src/auth/repo-access.ts";

describe("cachedRepoAccess", () => {
  it("asks GitHub once per token within the TTL, again after it, lower-casing names", async () => {
    let clock = 0;
    const asked: string[] = [];
    let answer = ["Acme/App"];
    const access = cachedRepoAccess({
      list: async (token) => {
        asked.push(token);
        return answer;
      },
      ttlMs: 1000,
      now: () => clock,
    });
    expect([...(await access.readable("t1"))]).toEqual(["acme/app"]);
    await Promise.all([access.readable("t1"), access.readable("t1")]);
    expect(asked).toEqual(["t1"]);
    await access.readable("t2");
    expect(asked).toEqual(["t1", "t2"]);
    answer = [];
    clock = 1001;
    expect([...(await access.readable("t1"))]).toEqual([]);
    expect(asked).toEqual(["t1", "t2", "t1"]);
    access.forget("t1");
    await access.readable("t1");
    expect(asked).toHaveLength(4);
  });

  it("does not remember a failed lookup", async () => {
    let fail = true;
    const access = cachedRepoAccess({
      list: async () => {
        if (fail) throw new Error("GitHub is down");
        return ["a/b"];
      },
    });
    await expect(access.readable("t")).rejects.toThrow("GitHub is down");
    fail = false;
    expect([...(await access.readable("t"))]).toEqual(["a/b"]);
  });

  it("keeps at most maxEntries tokens", async () => {
    const asked: string[] = [];
    const access = cachedRepoAccess({
      list: async (token) => {
        asked.push(token);
        return [];
      },
      maxEntries: 2,
    });
    for (const token of ["a", "b", "c", "a"]) await access.readable(token);
    expect(asked).toEqual(["a", "b", "c", "a"]);
  });
});
