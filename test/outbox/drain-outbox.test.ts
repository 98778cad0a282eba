import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Delivered, type OutboxDrainer, startOutboxDrainer } from "../../src/outbox/drain-outbox.ts";
import { enqueueOutbox, type OutboxMessage, type StoredOutboxMessage } from "../../src/outbox/outbox.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { pruneFinished } from "../../src/store/retention.ts";
import { storageModes } from "../helpers/database.ts";

const FAST = { baseMs: 40, maxMs: 200, minMs: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`outbox on ${mode.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const drainers: OutboxDrainer[] = [];

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
    });
    afterEach(async () => {
      for (const drainer of drainers.splice(0)) await drainer.stop();
      await db.query("DELETE FROM outbox");
    });
    afterAll(async () => {
      await db?.close();
      await cleanup?.();
    });

    const enqueue = (...messages: OutboxMessage[]) => db.transaction((tx) => enqueueOutbox(tx, messages));
    const drainer = async (
      handler: (message: StoredOutboxMessage) => Promise<Delivered>,
      extra: Partial<Parameters<typeof startOutboxDrainer>[1]> = {},
    ) => {
      const started = await startOutboxDrainer(db, {
        handlers: { test: handler },
        pollMs: 60_000,
        backoff: FAST,
        ...extra,
      });
      drainers.push(started);
      return started;
    };
    const rows = () =>
      db.query<{ key: string; attempts: number; failed: boolean; last_error: string | null }>(
        "SELECT key, attempts, failed_at IS NOT NULL AS failed, last_error FROM outbox ORDER BY id",
      );

    it("delivers a message once and forgets it; a rolled-back transaction records nothing", async () => {
      await db
        .transaction(async (tx) => {
          await enqueueOutbox(tx, [{ topic: "test", key: "lost", payload: { n: 0 } }]);
          throw new Error("rolled back");
        })
        .catch(() => {});
      await enqueue({ topic: "test", key: "a", payload: { n: 1 } });
      const seen: unknown[] = [];
      const d = await drainer(async (message) => {
        seen.push([message.key, message.payload, message.attempts]);
        return { ok: true };
      });
      expect(await d.drainOnce()).toBe(1);
      expect(seen).toEqual([["a", { n: 1 }, 0]]);
      expect(await rows()).toEqual([]);
      expect(await d.drainOnce()).toBe(0);
    });

    it("coalesces messages with one key (newest payload wins) and keeps distinct keys apart", async () => {
      await enqueue({ topic: "test", key: "run-1", payload: "queued" });
      await enqueue({ topic: "test", key: "run-1", payload: "running" });
      await enqueue(
        { topic: "test", key: "run-2", payload: "queued" },
        { topic: "test", key: "run-2", payload: "passed" },
      );
      const seen: unknown[] = [];
      const d = await drainer(async (message) => {
        seen.push([message.key, message.payload]);
        return { ok: true };
      });
      await d.drainOnce();
      expect(seen.sort()).toEqual([
        ["run-1", "running"],
        ["run-2", "passed"],
      ]);
    });

    it("retries a retryable failure after its backoff, counting attempts, until it is delivered", async () => {
      await enqueue({ topic: "test", key: "flaky", payload: null });
      const attempts: number[] = [];
      const d = await drainer(async (message) => {
        attempts.push(message.attempts);
        return message.attempts < 2 ? { ok: false, retryable: true, error: "502 Bad Gateway" } : { ok: true };
      });
      expect(await d.drainOnce()).toBe(1);
      expect(await rows()).toEqual([
        { key: "flaky", attempts: 1, failed: false, last_error: "502 Bad Gateway" },
      ]);
      expect(await d.drainOnce()).toBe(0); // backing off: not due yet
      for (let i = 0; i < 50 && (await rows()).length > 0; i++) {
        await sleep(30);
        await d.drainOnce();
      }
      expect(attempts).toEqual([0, 1, 2]);
      expect(await rows()).toEqual([]);
    });

    it("waits as long as the handler's retryAfterMs says", async () => {
      await enqueue({ topic: "test", key: "limited", payload: null });
      let calls = 0;
      const d = await drainer(
        async () => {
          calls += 1;
          return calls === 1 ? { ok: false, retryable: true, retryAfterMs: 400, error: "429" } : { ok: true };
        },
        { backoff: { baseMs: 10, maxMs: 5000, minMs: 10 } },
      );
      await d.drainOnce();
      await sleep(150);
      expect(await d.drainOnce()).toBe(0);
      await sleep(350);
      expect(await d.drainOnce()).toBe(1);
      expect(calls).toBe(2);
    });

    it("keeps a refused message as failed and never tries it again; a newer message with its key gets a try", async () => {
      await enqueue({ topic: "test", key: "bad", payload: 1 });
      const seen: unknown[] = [];
      const d = await drainer(async (message) => {
        seen.push(message.payload);
        return message.payload === 1
          ? { ok: false, retryable: false, error: "422 Unprocessable" }
          : { ok: true };
      });
      await d.drainOnce();
      expect(await rows()).toEqual([
        { key: "bad", attempts: 1, failed: true, last_error: "422 Unprocessable" },
      ]);
      await sleep(100);
      expect(await d.drainOnce()).toBe(0);
      await enqueue({ topic: "test", key: "bad", payload: 2 });
      expect(await d.drainOnce()).toBe(1);
      expect(seen).toEqual([1, 2]);
      expect(await rows()).toEqual([]);
    });

    it("delivers again when a newer message replaced one while it was being sent (newest state last)", async () => {
      await enqueue({ topic: "test", key: "run", payload: "running" });
      const seen: unknown[] = [];
      const d = await drainer(async (message) => {
        seen.push(message.payload);
        if (message.payload === "running") await enqueue({ topic: "test", key: "run", payload: "passed" });
        return { ok: true };
      });
      await d.drainOnce();
      expect(seen).toEqual(["running", "passed"]);
      expect(await rows()).toEqual([]);
    });

    it("treats a handler that throws as retryable, gives up after giveUpAfterMs, leaves other topics alone", async () => {
      await enqueue(
        { topic: "test", key: "boom", payload: null },
        { topic: "other", key: "x", payload: null },
      );
      const d = await drainer(
        async () => {
          throw new Error("handler bug");
        },
        { giveUpAfterMs: 0 },
      );
      await d.drainOnce();
      expect(await rows()).toEqual([
        { key: "boom", attempts: 1, failed: true, last_error: "Error: handler bug" },
        { key: "x", attempts: 0, failed: false, last_error: null },
      ]);
    });

    it("two drainers deliver each of many messages exactly once", async () => {
      const keys = Array.from({ length: 40 }, (_, i) => `m-${i}`);
      await enqueue(...keys.map((key) => ({ topic: "test", key, payload: null })));
      const seen: string[] = [];
      const handler = async (message: StoredOutboxMessage): Promise<Delivered> => {
        await sleep(2);
        seen.push(message.key);
        return { ok: true };
      };
      const [one, two] = [await drainer(handler), await drainer(handler)];
      await Promise.all([one.drainOnce(), two.drainOnce()]);
      expect(seen.sort()).toEqual([...keys].sort());
    });

    it("an exclusive drainer releases at start what a dead process had taken", async () => {
      await enqueue({ topic: "test", key: "taken", payload: null });
      await db.query("UPDATE outbox SET locked_until = now() + interval '1 hour'");
      const polite = await drainer(async () => ({ ok: true }));
      expect(await polite.drainOnce()).toBe(0);
      const exclusive = await drainer(async () => ({ ok: true }), { exclusive: true });
      expect(await exclusive.drainOnce()).toBe(1);
    });

    it("retention removes messages given up on longer ago than its days, and nothing still pending", async () => {
      await enqueue(
        { topic: "test", key: "old-failure", payload: null },
        { topic: "test", key: "new-failure", payload: null },
        { topic: "test", key: "pending", payload: null },
      );
      await db.query(
        "UPDATE outbox SET failed_at = now() - interval '2 days', created_at = now() - interval '9 days' WHERE key = 'old-failure'",
      );
      await db.query("UPDATE outbox SET failed_at = now() WHERE key = 'new-failure'");
      await db.query("UPDATE outbox SET created_at = now() - interval '9 days' WHERE key = 'pending'");
      const pruned = await pruneFinished(db, { olderThanDays: 1, keepRuns: 100 });
      expect(pruned.failedMessages).toBe(1);
      expect((await rows()).map((row) => row.key)).toEqual(["new-failure", "pending"]);
    });

    it("wake() delivers without waiting for the poll", async () => {
      const seen: string[] = [];
      const d = await drainer(async (message) => {
        seen.push(message.key);
        return { ok: true };
      });
      await enqueue({ topic: "test", key: "woken", payload: null });
      d.wake();
      for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
      expect(seen).toEqual(["woken"]);
    });
  });
}
