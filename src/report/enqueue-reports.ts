/**
 * The store's `onChange` for reporting: inside the very transaction that changes runs, one outbox message per
 * delivery (and per pull request) whose runs changed. The report is then committed with the change or not at
 * all: a crash right after a run ends still delivers its final status once the server is back. With `checks`
 * (`settings.checks`), runs are reported as check runs instead of commit statuses.
 */
import type { Transaction } from "../store/database.ts";
import { runsInLineBehind } from "../store/environment-queue.ts";
import type { OnRunChange } from "../store/run-changes.ts";
import { type ReportMessage, reportMessages } from "./report-messages.ts";

/** The outbox's `enqueueOutbox`, inside the caller's transaction. */
export type EnqueueOutbox = (tx: Transaction, messages: readonly ReportMessage[]) => Promise<unknown>;

export function enqueueReports(enqueue: EnqueueOutbox, options: { checks?: boolean } = {}): OnRunChange {
  return async (tx, change) => {
    const rows = await tx.query<{ delivery_id: string; repo: string; pr_number: number | null }>(
      `SELECT delivery_id, repo, pr_number FROM runs
       WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq`,
      [JSON.stringify(change.runIds)],
    );
    // A claim moves its environment's queue: the runs still in line show a new "Waiting for …" line.
    if (change.cause === "claimed") rows.push(...(await runsInLineBehind(tx, change.runIds)));
    const messages = reportMessages(
      rows.map((row) => ({ deliveryId: row.delivery_id, repo: row.repo, prNumber: row.pr_number })),
      options,
    );
    if (messages.length > 0) await enqueue(tx, messages);
  };
}
