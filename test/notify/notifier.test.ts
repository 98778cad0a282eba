/**
 * Notifications end to end below the process: the store's `onChange` records them in the outbox with the run
 * change (or not at all), and the drainer delivers them to real receivers on 127.0.0.1 with the contract's
 * retry rules, one `webhook-id` per notification, signatures a Standard Webhooks verifier accepts.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { maskText } from "../../src/exec/mask-secrets.ts";
import {
  createNotifier,
  NOTIFICATION_TOPIC,
  type Notifier,
  notificationKey,
} from "../../src/notify/notifier.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import { type OutboxDrainer, startOutboxDrainer } from "../../src/outbox/drain-outbox.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { allOf, type OnRunChange } from "../../src/store/run-changes.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { type Answer, type HttpReceiver, startReceiver } from "../helpers/http-receiver.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const DEPLOY_TOKEN = "tok-3f9a7c1e55";
const FAST = { baseMs: 10, maxMs: 50, minMs: 10 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const configWith = (notifications: unknown[]): Config =>
  ConfigSchema.parse({
    version: 1,
    pipelines: {
      test: { steps: [{ name: "Unit tests", run: "true" }] },
      deploy: {
        environment: "production",
        secrets: ["DEPLOY_TOKEN"],
        steps: [{ name: "Deploy", run: "true" }],
      },
    },
    notifications,
  });

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`notifications on ${mode.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const opened: { store: RunStore; drainer?: OutboxDrainer }[] = [];
    const receivers: HttpReceiver[] = [];
    const logs: { level: string; obj: object; msg?: string }[] = [];
    const logger = {
      info: (obj: object, msg?: string) => logs.push({ level: "info", obj, msg }),
      warn: (obj: object, msg?: string) => logs.push({ level: "warn", obj, msg }),
      error: (obj: object, msg?: string) => logs.push({ level: "error", obj, msg }),
    };

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
    });
    afterEach(async () => {
      for (const { store, drainer } of opened.splice(0)) {
        await drainer?.stop();
        await store.close();
      }
      for (const receiver of receivers.splice(0)) await receiver.close();
      await db.query("DELETE FROM outbox");
      logs.length = 0;
    });
    afterAll(async () => {
      await db?.close();
      await cleanup?.();
    });

    /** A store whose changes notify, and a drainer; `extra` runs after the notifier in the same transaction. */
    const setUp = async (
      notifications: unknown[],
      targets: Record<string, Answer[]>,
      extra?: OnRunChange,
    ) => {
      const byName = new Map<string, HttpReceiver>();
      const resolved = new Map<
        string,
        { channel: "slack"; url: string } | { channel: "webhook"; url: string; secret: string }
      >();
      for (const [name, script] of Object.entries(targets)) {
        const receiver = await startReceiver(script, "/services/T000/B000/SECRETPATH");
        receivers.push(receiver);
        byName.set(name, receiver);
        const config = (notifications as { name: string; slack?: string }[]).find((n) => n.name === name);
        resolved.set(
          name,
          config?.slack
            ? { channel: "slack", url: receiver.url }
            : { channel: "webhook", url: receiver.url, secret: SECRET },
        );
      }
      const config = configWith(notifications);
      const metrics = createMetrics({ queuedRuns: async () => 0 }, { defaults: false });
      const notifier: Notifier = createNotifier({
        config: () => config,
        targets: resolved,
        context: {
          publicUrl: "https://bot.example.com",
          githubWebUrl: "https://github.com",
          mask: (text) => maskText(text, { secrets: [DEPLOY_TOKEN, SECRET] }),
        },
        logger,
        metrics,
      });
      const store = await openRunStore(db, { onChange: allOf(notifier.onChange, extra) });
      const drainer = await startOutboxDrainer(db, {
        handlers: { [NOTIFICATION_TOPIC]: notifier.deliver },
        pollMs: 60_000,
        backoff: FAST,
      });
      opened.push({ store, drainer });
      return { store, drainer, receivers: byName, metrics, notifier };
    };

    const outboxKeys = async () =>
      (await db.query<{ key: string }>("SELECT key FROM outbox ORDER BY id")).map((row) => row.key);

    /** Drains until `done` holds (bounded), sleeping through the backoff between passes. */
    const drainUntil = async (drainer: OutboxDrainer, done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) {
        await drainer.drainOnce();
        if (!done()) await sleep(20);
      }
      await drainer.drainOnce();
    };

    it("records one message per matching notification in the transaction of the change, filters applied", async () => {
      const { store } = await setUp(
        [
          { name: "chat", slack: "SLACK_URL", pipelines: ["deploy"] },
          {
            name: "audit",
            webhook: { url: "https://x.example/hook", secret: "AUDIT_SECRET" },
            on: ["started", "succeeded", "failed", "error"],
          },
        ],
        {},
      );
      const accepted = await store.acceptDelivery(
        delivery(pushEvent(), [run("test"), run("deploy", { needs: ["test"], environment: "production" })]),
      );
      const [test] = accepted.runs;
      expect(await outboxKeys()).toEqual([]); // queued: no outcome yet
      await store.claimRuns("w-1", 5);
      expect(await outboxKeys()).toEqual([notificationKey("audit", test!.id, "started")]);
      await store.updateStep(test!.id, { index: 0, state: "running" });
      // A step's progress is not an outcome: the recorded message is not touched again.
      expect(await db.query("SELECT version FROM outbox")).toEqual([{ version: 1 }]);
      await store.finishRun(test!.id, { state: "failed", detail: "Unit tests exited with 1" });
      // The deploy was skipped because the test failed: the failure itself is what is told.
      expect(await outboxKeys()).toEqual([
        notificationKey("audit", test!.id, "started"),
        notificationKey("audit", test!.id, "failed"),
      ]);
    });

    it("records nothing when the change rolls back", async () => {
      let fail = false;
      const { store } = await setUp(
        [{ name: "audit", webhook: { url: "https://x.example/hook", secret: "S" }, on: ["started"] }],
        {},
        async () => {
          if (fail) throw new Error("a later consumer broke");
        },
      );
      await store.acceptDelivery(delivery(pushEvent(), [run("test")]));
      fail = true;
      await expect(store.claimRuns("w-1", 5)).rejects.toThrow("a later consumer broke");
      expect(await outboxKeys()).toEqual([]);
      fail = false;
      const { runs } = await store.claimRuns("w-1", 5);
      expect(await outboxKeys()).toEqual([notificationKey("audit", runs[0]!.id, "started")]);
    });

    it("a webhook answering 503 twice then 200 gets it three times, same webhook-id, verifiable, sent once", async () => {
      const {
        store,
        drainer,
        receivers: r,
        metrics,
      } = await setUp(
        [{ name: "audit", webhook: { url: "https://x.example/hook", secret: "S" }, on: ["failed"] }],
        { audit: [{ status: 503 }, { status: 503 }, { status: 200 }] },
      );
      const event = pushEvent({ branch: `leak-${DEPLOY_TOKEN}` });
      await store.acceptDelivery(delivery(event, [run("deploy", { environment: "production" })]));
      const { runs } = await store.claimRuns("w-1", 5);
      await db.query("INSERT INTO logs (run_id, step_index, text) VALUES ($1, 0, $2)", [
        runs[0]!.id,
        `curl -H ${DEPLOY_TOKEN}\nexit 1\n`,
      ]);
      await store.updateStep(runs[0]!.id, { index: 0, state: "failed", exitCode: 1 });
      await store.finishRun(runs[0]!.id, { state: "failed", detail: "Step one exited with 1" });
      const audit = r.get("audit")!;
      await drainUntil(drainer, () => audit.requests.length >= 3);
      expect(audit.requests).toHaveLength(3);
      const ids = new Set(audit.requests.map((request) => request.headers["webhook-id"]));
      expect(ids.size).toBe(1);
      const bodies = new Set(audit.requests.map((request) => request.body));
      expect(bodies.size).toBe(1);
      for (const request of audit.requests) new Webhook(SECRET).verify(request.body, request.headers);
      const envelope = JSON.parse(audit.requests[0]!.body);
      expect(envelope).toMatchObject({
        type: "run.failed",
        data: { run: { id: runs[0]!.id, state: "failed", pipeline: "deploy" } },
      });
      expect(envelope.data.run.log_tail).toEqual(["curl -H ***", "exit 1"]);
      expect(audit.requests[0]!.body).not.toContain(DEPLOY_TOKEN);
      expect(await outboxKeys()).toEqual([]); // delivered: gone
      await drainer.drainOnce();
      expect(audit.requests).toHaveLength(3); // never again
      const text = await metrics.registry.metrics();
      expect(text).toContain('deploybot_notifications_total{channel="webhook",outcome="retry"} 2');
      expect(text).toContain('deploybot_notifications_total{channel="webhook",outcome="sent"} 1');
    });

    it("a 400 receiver is not retried, and the Slack URL's secret path is never logged", async () => {
      const {
        store,
        drainer,
        receivers: r,
        metrics,
      } = await setUp([{ name: "chat", slack: "SLACK_URL", on: ["started"] }], {
        chat: [{ status: 400, body: "invalid_blocks" }],
      });
      await store.acceptDelivery(delivery(pushEvent(), [run("test")]));
      await store.claimRuns("w-1", 5);
      const chat = r.get("chat")!;
      await drainUntil(drainer, () => chat.requests.length >= 1);
      await sleep(100);
      await drainer.drainOnce();
      expect(chat.requests).toHaveLength(1);
      expect(JSON.parse(chat.requests[0]!.body)).toHaveProperty("blocks");
      const failed = await db.query<{ failed: boolean; last_error: string }>(
        "SELECT failed_at IS NOT NULL AS failed, last_error FROM outbox",
      );
      expect(failed).toEqual([{ failed: true, last_error: "HTTP 400: invalid_blocks" }]);
      expect(JSON.stringify(logs)).not.toContain("SECRETPATH");
      expect(
        logs.find((l) => l.msg === "notification refused by the receiver: not retried")?.obj,
      ).toMatchObject({
        notification: "chat",
        channel: "slack",
        url: `${new URL(chat.url).origin}/…`,
      });
      expect(await metrics.registry.metrics()).toContain(
        'deploybot_notifications_total{channel="slack",outcome="failed"} 1',
      );
    });

    it("a 500 from Slack is retried, and 429's Retry-After sets the wait", async () => {
      const { notifier, receivers: r } = await setUp(
        [{ name: "chat", slack: "SLACK_URL", on: ["started"] }],
        { chat: [{ status: 500 }, { status: 429, headers: { "retry-after": "9" } }, { status: 200 }] },
      );
      const message = {
        id: "1",
        topic: NOTIFICATION_TOPIC,
        key: "chat:r1:started",
        payload: {
          notification: "chat",
          channel: "slack",
          runId: "r1",
          outcome: "started",
          body: { text: "t", blocks: [] },
        },
        attempts: 0,
        createdAt: new Date(),
      };
      expect(await notifier.deliver(message)).toEqual({
        ok: false,
        retryable: true,
        retryAfterMs: 2000,
        error: "HTTP 500: no",
      });
      expect(await notifier.deliver({ ...message, attempts: 1 })).toEqual({
        ok: false,
        retryable: true,
        retryAfterMs: 9000,
        error: "HTTP 429: no",
      });
      expect(await notifier.deliver({ ...message, attempts: 2 })).toEqual({ ok: true });
      expect(r.get("chat")!.requests).toHaveLength(3);
      // A notification removed from the config since it was recorded is dropped, not retried forever.
      expect(
        await notifier.deliver({ ...message, payload: { ...message.payload, notification: "gone" } }),
      ).toMatchObject({
        ok: false,
        retryable: false,
      });
    });
  });
}
