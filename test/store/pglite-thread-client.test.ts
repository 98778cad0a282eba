import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { startPgliteThread } from "../../src/store/pglite-thread-client.ts";
import { createTempDataDir, type TempDataDir } from "../helpers/database.ts";

/** Enough work for PostgreSQL in WebAssembly to take a good fraction of a second. */
const HEAVY_QUERY = "SELECT count(*)::int AS n FROM generate_series(1, 3000000)";

describe("embedded PGlite in its own thread", () => {
  let dir: TempDataDir;
  let db: Database;
  beforeAll(async () => {
    dir = await createTempDataDir();
    db = await openDatabase({ dataDir: dir.dataDir });
  });
  afterAll(async () => {
    await db?.close();
    await dir?.remove();
  });

  it("keeps the main thread's event loop running while a long query runs", async () => {
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const rows = await db.query<{ n: number }>(HEAVY_QUERY);
    const took = performance.now() - started;
    clearInterval(timer);
    expect(rows).toEqual([{ n: 3_000_000 }]);
    // On the main thread this query would stop the timer for its whole duration (one gap as long as the
    // query). Relative bounds only: on a loaded machine every timer is late, but not for half the query.
    expect(took).toBeGreaterThan(300);
    expect(gaps.length).toBeGreaterThan(took / 10 / 4);
    expect(Math.max(...gaps)).toBeLessThan(took / 2);
  });

  it("keeps transactions atomic: other statements wait for the open one, a rollback leaves nothing", async () => {
    await db.query("CREATE TABLE thread_probe (id int PRIMARY KEY)");
    let inside!: () => void;
    const reachedInside = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const committed = db.transaction(async (tx) => {
      await tx.query("INSERT INTO thread_probe VALUES (1)");
      inside();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await tx.query("INSERT INTO thread_probe VALUES (2)");
    });
    await reachedInside;
    // Issued while the transaction is open: must see both rows or none, never one.
    const seen = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM thread_probe");
    await committed;
    expect(seen).toEqual([{ n: 2 }]);

    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO thread_probe VALUES (3)");
        await tx.query("INSERT INTO thread_probe VALUES (1)");
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(await db.query("SELECT id FROM thread_probe ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe("a broken embedded database thread", () => {
  it("fails waiting and later statements with a clear error when the thread dies", async () => {
    const dir = await createTempDataDir();
    try {
      const thread = await startPgliteThread(path.join(dir.dataDir, "db"), {});
      const waiting = thread.query(HEAVY_QUERY, [], true);
      const failed = expect(waiting).rejects.toThrow(/embedded database thread stopped/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await thread.terminate();
      await failed;
      expect(performance.now() - started).toBeLessThan(5000);
      await expect(thread.query("SELECT 1", [], true)).rejects.toThrow(/embedded database thread stopped/);
      await thread.close();
    } finally {
      await dir.remove();
    }
  });

  it("rejects with the reason when the database cannot be opened", async () => {
    const dir = await createTempDataDir();
    try {
      const notADirectory = path.join(dir.dataDir, "file");
      await mkdir(dir.dataDir, { recursive: true });
      await writeFile(notADirectory, "not a database");
      await expect(startPgliteThread(notADirectory, {})).rejects.toThrow(
        /could not open the embedded database|embedded database thread exited/,
      );
    } finally {
      await dir.remove();
    }
  });
});
