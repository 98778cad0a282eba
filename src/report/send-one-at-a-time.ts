/**
 * Brings the reports of a delivery's runs (commit statuses, or check runs) up to date one write at a time,
 * reading the runs again before each: writes queue behind GitHub's write limit (~1/s), and what was computed
 * before the wait may be stale by the time it could be sent.
 *
 * A transient failure stops the round (the rest would most likely fail alike; the outbox's retry sends them
 * all); a permanent one skips that run and is returned at the end. Each write brings one run up to date, so at
 * most two writes per run are made: changes after the last read have a message of their own.
 */
import type { Delivered } from "../outbox/drain-outbox.ts";
import type { RunRecord } from "../runs/run.ts";
import type { Logger } from "../store/logger.ts";

export interface DueReports<T extends { readonly run: RunRecord }> {
  /** Every run of the delivery, now. */
  readonly runs: readonly RunRecord[];
  /** The runs whose report differs from what GitHub was last told, with what to send. */
  readonly due: readonly T[];
}

export interface SendOneAtATime<T extends { readonly run: RunRecord }> {
  readonly deliveryId: string;
  readDue(): Promise<DueReports<T>>;
  /** Sends one run's report and records it; a failure's `Delivered` says whether to retry. */
  send(item: T, installationId: number): Promise<Delivered>;
  storeFailed(error: unknown, context: object): Delivered;
  readonly logger: Pick<Logger, "warn">;
}

export async function sendOneAtATime<T extends { readonly run: RunRecord }>(
  job: SendOneAtATime<T>,
): Promise<Delivered> {
  const { deliveryId } = job;
  let refused: Delivered | undefined;
  const refusedRuns = new Set<string>();
  let writesLeft: number | undefined;
  for (;;) {
    let read: DueReports<T>;
    try {
      read = await job.readDue();
    } catch (error) {
      return job.storeFailed(error, { deliveryId });
    }
    writesLeft ??= 2 * read.runs.length;
    const next = read.due.find(({ run }) => !refusedRuns.has(run.id));
    const event = read.runs[0]?.event; // none: pruned meanwhile, nothing left to report
    if (!event || !next || writesLeft <= 0) return refused ?? { ok: true };
    writesLeft -= 1;
    if (event.installationId === undefined) {
      job.logger.warn({ deliveryId }, "no installation id: cannot report to GitHub");
      return { ok: true };
    }
    const answer = await job.send(next, event.installationId);
    if (answer.ok) continue;
    if (answer.retryable) return answer;
    refused ??= answer;
    refusedRuns.add(next.run.id);
  }
}
