/**
 * Scheduled rules on pg-boss's cron schedules, with two workers (two stores, two connection pools) on one
 * PostgreSQL: a tick fires once, not once per worker; after every worker was down across several ticks,
 * start-up fires once. Real time: a `* * * * *` schedule, so the first case waits for the next minute.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Scheduler, startScheduler, TICK_QUEUE } from "../../src/queue/schedule-jobs.ts";
import { type ScheduledTick, tickAt, tickDeliveryId } from "../../src/runs/schedule-ticks.ts";
import type { Database } from "../../src/store/database.ts";
import { silentLogger } from "../../src/store/logger.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import {
  createThrowawayDatabase,
  PG_SKIP_REASON,
  postgresReachable,
  type ThrowawayDatabase,
} from "../helpers/database.ts";

const reachable = await postgresReachable();
const TICK: ScheduledTick = { rule: "reconcile", repo: "acme/infra", branch: "main", cron: "* * * * *" };

interface Worker {
  db: Database;
  store: RunStore;
  scheduler: Scheduler;
}

describe.skipIf(!reachable)(
  `two workers on PostgreSQL${reachable ? "" : ` (skipped: ${PG_SKIP_REASON})`}`,
  () => {
    let database: ThrowawayDatabase;
    let workers: Worker[] = [];
    const fired: { worker: number; id: string }[] = [];

    const startWorkers = async (tick: ScheduledTick) => {
      workers = [];
      for (const index of [0, 1]) {
        const db = await openDatabase({ databaseUrl: database.url, poolSize: 3 });
        const store = await openRunStore(db, { scheduling: true });
        const scheduler = await startScheduler(
          store.queueEngine,
          [tick],
          async (tick, firedAt) => {
            fired.push({
              worker: index,
              id: tickDeliveryId(tick.rule, tick.repo, tickAt(tick.cron, firedAt)),
            });
          },
          silentLogger,
        );
        workers.push({ db, store, scheduler });
      }
    };
    const stopWorkers = async () => {
      for (const worker of workers) {
        await worker.scheduler.stop();
        await worker.store.close();
        await worker.db.close();
      }
      workers = [];
    };
    const waitFor = async (count: number, ms: number) => {
      const deadline = Date.now() + ms;
      while (fired.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    };

    beforeAll(async () => {
      database = await createThrowawayDatabase();
    });
    afterAll(async () => {
      await stopWorkers();
      await database?.drop();
    });

    it("fires each tick once, with two workers running the cron pass", { timeout: 150_000 }, async () => {
      await startWorkers(TICK);
      await waitFor(1, 100_000);
      expect(fired.length).toBeGreaterThanOrEqual(1);
      // Both workers' passes have run again by now (every 10 s); a second job for the tick would be taken.
      await new Promise((r) => setTimeout(r, 15_000));
      const ids = fired.map((f) => f.id);
      expect(ids).toEqual([...new Set(ids)]);
      expect(ids[0]).toMatch(/^schedule:reconcile:acme\/infra:\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    });

    it("after every worker was down across several ticks, fires once at start-up", {
      timeout: 60_000,
    }, async () => {
      await stopWorkers();
      fired.length = 0;
      // Down for ten minutes, as pg-boss sees it: its last cron pass is that old.
      // Three ticks 7, 5 and 3 minutes ago, none in the last minute: only a catch-up can fire it.
      const minute = (ago: number) => (new Date(Date.now() - ago * 60_000).getUTCMinutes() + 60) % 60;
      const missed: ScheduledTick = { ...TICK, cron: `${minute(7)},${minute(5)},${minute(3)} * * * *` };
      const started = new Date();
      // The schedule as the workers left it ten minutes ago (a schedule is owed nothing from before it existed).
      const setup = await openDatabase({ databaseUrl: database.url, poolSize: 1 });
      const setupStore = await openRunStore(setup);
      await (await startScheduler(setupStore.queueEngine, [missed], undefined, silentLogger)).stop();
      await setupStore.close();
      await setup.query("UPDATE pgboss.schedule SET created_on = now() - interval '1 hour' WHERE name = $1", [
        TICK_QUEUE,
      ]);
      await setup.query("UPDATE pgboss.version SET cron_on = now() - interval '10 minutes'");
      await setup.close();
      await startWorkers(missed);
      await waitFor(1, 30_000);
      await new Promise((r) => setTimeout(r, 8_000));
      expect(fired.map((f) => f.id)).toEqual([
        tickDeliveryId(missed.rule, missed.repo, tickAt(missed.cron, started)),
      ]);
    });
  },
);
