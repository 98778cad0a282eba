/**
 * The outbox: what the outside world must hear about (GitHub statuses, Deployments, notifications) is written in
 * the same transaction as the change it reports, and delivered later by `drain-outbox.ts` for as long as it takes.
 * A crash between the change and its delivery therefore loses nothing, and nothing is sent for a change that
 * rolled back.
 */
import type { Transaction } from "../store/database.ts";

export interface OutboxMessage {
  /** Which handler delivers it (`github-report`, `deployment`, `notification`, …). */
  readonly topic: string;
  /**
   * Messages with the same topic and key coalesce: a newer one replaces a pending one (newest payload wins).
   * Use a key per thing whose *current* state is sent (a delivery, a run), or a unique key per message that
   * must be sent as such (one notification).
   */
  readonly key: string;
  readonly payload: unknown;
}

/** A message as a handler receives it. */
export interface StoredOutboxMessage extends OutboxMessage {
  readonly id: string;
  /** Failed deliveries so far (0 on the first try). */
  readonly attempts: number;
  /** When the first message with this topic and key was recorded. */
  readonly createdAt: Date;
}

/**
 * Records `messages` inside `tx`. A message replacing a pending one keeps its attempt count and, while that one is
 * backing off after failures, its due time: a stream of changes does not defeat the backoff.
 */
export async function enqueueOutbox(tx: Transaction, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  // Within one statement a key may appear once; the last message for it wins, as it would one after another.
  const latest = new Map<string, OutboxMessage>();
  for (const message of messages) latest.set(`${message.topic}\u0000${message.key}`, message);
  await tx.query(
    `INSERT INTO outbox (topic, key, payload)
     SELECT topic, key, payload FROM jsonb_to_recordset($1::jsonb) AS x(topic text, key text, payload jsonb)
     ON CONFLICT (topic, key) DO UPDATE SET
       payload = EXCLUDED.payload,
       version = outbox.version + 1,
       due_at = CASE WHEN outbox.attempts = 0 OR outbox.failed_at IS NOT NULL THEN now() ELSE outbox.due_at END,
       attempts = CASE WHEN outbox.failed_at IS NOT NULL THEN 0 ELSE outbox.attempts END,
       failed_at = NULL`,
    [
      JSON.stringify(
        [...latest.values()].map((message) => ({
          topic: message.topic,
          key: message.key,
          payload: message.payload ?? null,
        })),
      ),
    ],
  );
}
