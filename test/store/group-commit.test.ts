import { describe, expect, it } from "vitest";
import { groupCommit } from "../../src/store/group-commit.ts";

describe("groupCommit", () => {
  it("commits a lone item at once, without waiting for company", async () => {
    const batches: number[][] = [];
    const commits = groupCommit(async (items: readonly number[]) => {
      batches.push([...items]);
      return items.map((item) => item * 2);
    });
    expect(await commits.add(1)).toBe(2);
    expect(await commits.add(2)).toBe(4);
    expect(batches).toEqual([[1], [2]]);
  });

  it("writes items that arrive together, or during a commit, in one batch each, in order", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const commits = groupCommit(async (items: readonly number[]) => {
      batches.push([...items]);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((item) => `done ${item}`);
    });
    const first = [commits.add(1), commits.add(2)];
    await new Promise((resolve) => setImmediate(resolve));
    const during = [3, 4, 5].map((item) => commits.add(item));
    release();
    expect(await Promise.all([...first, ...during])).toEqual([
      "done 1",
      "done 2",
      "done 3",
      "done 4",
      "done 5",
    ]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it("caps the batch size", async () => {
    const sizes: number[] = [];
    const commits = groupCommit(
      async (items: readonly number[]) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((item) => commits.add(item)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("fails only the item that cannot be committed when a shared commit fails", async () => {
    const commits = groupCommit(async (items: readonly number[]) => {
      if (items.includes(13)) throw new Error("unlucky");
      return items;
    });
    const results = await Promise.allSettled([12, 13, 14].map((item) => commits.add(item)));
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error("unlucky"));
  });

  it("drain waits for what is buffered and in flight", async () => {
    const done: number[] = [];
    const commits = groupCommit(async (items: readonly number[]) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push(...items);
      return items;
    });
    void commits.add(1);
    void commits.add(2);
    await commits.drain();
    expect(done).toEqual([1, 2]);
  });
});
