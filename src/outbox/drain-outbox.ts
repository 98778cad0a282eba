/**
 * Delivers the outbox: takes due messages (several drainers never take the same one), hands each to its topic's
 * handler, and deletes it once delivered — unless a newer message replaced it meanwhile, which is then delivered
 * in turn. A retryable failure waits (`backoff.ts`, or the handler's `retryAfterMs`) and is tried again, across
 * restarts, until `giveUpAfterMs`; a permanent one is kept as failed (for inspection) and not tried again.
 */
import type { Database } from "../store/database.ts";
import { type Logger, silentLogger } from "../store/logger.ts";
import { type BackoffOptions, DEFAULT_BACKOFF, nextRetryDelay } from "./backoff.ts";
import type { StoredOutboxMessage } from "./outbox.ts";

export type Delivered =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** true: try again later (5xx, rate limits, network); false: never (other 4xx, bad payload). */
      readonly retryable: boolean;
      /** Overrides the backoff for this try (e.g. from `Retry-After`). */
      readonly retryAfterMs?: number;
      readonly error: string;
    };

export type OutboxHandler = (message: StoredOutboxMessage) => Promise<Delivered>;

export interface OutboxDrainerOptions {
  /**
   * Only these topics are taken: a process without a topic's handler leaves its messages to others. With none,
   * the drainer never queries.
   */
  readonly handlers: Readonly<Record<string, OutboxHandler>>;
  readonly logger?: Logger;
  /** How often to look for messages recorded by other processes (own ones: call `wake`). Default 1 s. */
  readonly pollMs?: number;
  /** Messages delivered at once. Default 4. */
  readonly concurrency?: number;
  /** How long a taken message stays taken if its drainer dies mid-delivery. Default 60 s. */
  readonly lockMs?: number;
  readonly backoff?: BackoffOptions;
  /** A message still failing this long after it was first recorded is given up. Default 3 days. */
  readonly giveUpAfterMs?: number;
  /**
   * This is the only drainer of the database (embedded store): messages an earlier process had taken when it
   * died are released at start instead of after `lockMs`.
   */
  readonly exclusive?: boolean;
}

export interface OutboxDrainer {
  /** Asks for a pass now (after a commit that recorded messages). Never throws. */
  wake(): void;
  /** Runs passes until nothing is due; resolves with the number of deliveries tried. */
  drainOnce(): Promise<number>;
  /** Stops taking messages and waits for those in flight. */
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

type TakenRow = {
  id: string | number;
  topic: string;
  key: string;
  payload: unknown;
  version: number;
  attempts: number;
  created_at: string | Date;
};

export async function startOutboxDrainer(
  db: Database,
  options: OutboxDrainerOptions,
): Promise<OutboxDrainer> {
  const logger = options.logger ?? silentLogger;
  const topics = JSON.stringify(Object.keys(options.handlers));
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const lockSeconds = (options.lockMs ?? 60_000) / 1000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 3 * DAY_MS;
  let stopped = false;
  let pass: Promise<number> | undefined;
  let again = false;

  if (options.exclusive)
    await db.query("UPDATE outbox SET locked_until = NULL WHERE locked_until IS NOT NULL");

  const take = (limit: number) =>
    db.query<TakenRow>(
      `UPDATE outbox SET locked_until = now() + make_interval(secs => $2::float8)
       WHERE id IN (
         SELECT id FROM outbox
         WHERE topic IN (SELECT jsonb_array_elements_text($1::jsonb)) AND failed_at IS NULL AND due_at <= now()
           AND (locked_until IS NULL OR locked_until < now())
         ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, topic, key, payload, version, attempts, created_at`,
      [topics, lockSeconds, limit],
    );

  const settle = async (row: TakenRow, result: Delivered): Promise<void> => {
    if (result.ok) {
      const deleted = await db.query("DELETE FROM outbox WHERE id = $1 AND version = $2 RETURNING id", [
        row.id,
        row.version,
      ]);
      // Replaced while it was being sent: the newer payload is due now.
      if (deleted.length === 0)
        await db.query("UPDATE outbox SET locked_until = NULL WHERE id = $1", [row.id]);
      return;
    }
    const attempts = row.attempts + 1;
    const age = Date.now() - new Date(row.created_at).getTime();
    const error = result.error.slice(0, 1000);
    if (!result.retryable || age >= giveUpAfterMs) {
      logger.error(
        { topic: row.topic, key: row.key, attempts, error },
        result.retryable ? "outbox: giving up on a message that kept failing" : "outbox: message refused",
      );
      // A newer payload recorded meanwhile deserves its own try.
      await db.query(
        `UPDATE outbox SET attempts = $3, last_error = $4, locked_until = NULL,
           failed_at = CASE WHEN version = $2 THEN now() END
         WHERE id = $1`,
        [row.id, row.version, attempts, error],
      );
      return;
    }
    const delayMs = nextRetryDelay(
      attempts,
      result.retryAfterMs,
      options.backoff ?? DEFAULT_BACKOFF,
      Math.random(),
    );
    logger.warn(
      { topic: row.topic, key: row.key, attempts, delayMs, error },
      "outbox: delivery failed, will retry",
    );
    await db.query(
      `UPDATE outbox SET attempts = $2, last_error = $3, locked_until = NULL,
         due_at = now() + make_interval(secs => $4::float8)
       WHERE id = $1`,
      [row.id, attempts, error, delayMs / 1000],
    );
  };

  const deliver = async (row: TakenRow): Promise<void> => {
    const handler = options.handlers[row.topic];
    let result: Delivered;
    try {
      result = handler
        ? await handler({
            id: String(row.id),
            topic: row.topic,
            key: row.key,
            payload: row.payload,
            attempts: row.attempts,
            createdAt: new Date(row.created_at),
          })
        : { ok: false, retryable: true, error: `no handler for topic ${row.topic}` };
    } catch (error) {
      // A handler that throws is a bug or an outage we did not classify: try again rather than lose it.
      result = { ok: false, retryable: true, error: String(error) };
    }
    await settle(row, result);
  };

  const runPass = async (): Promise<number> => {
    let tried = 0;
    while (!stopped) {
      const rows = await take(concurrency);
      if (rows.length === 0) break;
      await Promise.all(rows.map((row) => deliver(row)));
      tried += rows.length;
    }
    return tried;
  };

  /** One pass at a time; a wake during a pass makes exactly one more. */
  const schedule = (): Promise<number> => {
    if (pass) {
      again = true;
      return pass;
    }
    pass = (async () => {
      let total = 0;
      do {
        again = false;
        total += await runPass();
      } while (again && !stopped);
      return total;
    })().finally(() => {
      pass = undefined;
    });
    return pass;
  };

  const idle = Object.keys(options.handlers).length === 0;
  const tick = () => {
    if (idle) return;
    schedule().catch((error: unknown) => logger.warn({ err: error }, "outbox: a pass failed"));
  };
  const timer = setInterval(tick, options.pollMs ?? 1000);
  timer.unref();

  return {
    wake: () => {
      if (!stopped) tick();
    },
    drainOnce: async () => {
      let total = 0;
      // A pass already running may have taken its rows before ours were due: run until one finds nothing.
      for (;;) {
        const tried = await schedule();
        total += tried;
        if (tried === 0 || stopped) return total;
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pass?.catch(() => 0);
    },
  };
}
