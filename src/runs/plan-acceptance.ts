/**
 * Pure preparation of a batch of deliveries for `acceptDeliveries`: the rows to insert, the runs they
 * create (with fresh ids, in arrival order), and which new runs a later delivery in the same batch
 * replaces. Accepting a batch must give the result of accepting its deliveries one after another.
 */

import type { AcceptDeliveryInput, AcceptRunInput } from "./accept-input.ts";
import { supersedeKey } from "./supersede-key.ts";

/** The `deliveries` row of an input, as `jsonb_to_recordset` reads it. */
export function deliveryRow(input: AcceptDeliveryInput) {
  return {
    id: input.deliveryId,
    event_name: input.eventName,
    event: input.event,
    repo: input.repo,
    sha: input.sha,
    outcome: input.outcome,
    reason: input.reason,
  };
}

export interface NewRunRow extends AcceptRunInput {
  readonly id: string;
  readonly deliveryId: string;
  readonly repo: string;
  readonly refKey: string;
  readonly sha: string;
  readonly prNumber: number | null;
  readonly environment: string | null;
  /** Repository, pipeline and branch/PR: a newer run with the same key replaces a waiting older one. */
  readonly key: string;
}

export interface AcceptancePlan {
  /** One row per distinct delivery id (the first occurrence wins; later ones are duplicates). */
  readonly deliveries: ReturnType<typeof deliveryRow>[];
  readonly runs: NewRunRow[];
  /** Index in the batch of the first input with each delivery id. */
  readonly firstIndex: ReadonlyMap<string, number>;
}

export function planAcceptance(inputs: readonly AcceptDeliveryInput[], newId: () => string): AcceptancePlan {
  const firstIndex = new Map<string, number>();
  const deliveries: ReturnType<typeof deliveryRow>[] = [];
  const runs: NewRunRow[] = [];
  for (const [index, input] of inputs.entries()) {
    if (firstIndex.has(input.deliveryId)) continue;
    firstIndex.set(input.deliveryId, index);
    deliveries.push(deliveryRow(input));
    const event = input.event;
    if (input.outcome !== "planned" || event === null) continue;
    const refKey = supersedeKey(event);
    for (const run of input.runs) {
      runs.push({
        ...run,
        id: newId(),
        deliveryId: input.deliveryId,
        repo: event.repo.fullName,
        refKey,
        sha: event.sha,
        prNumber: event.kind === "pull_request" ? event.prNumber : null,
        environment: run.environment ?? null,
        key: JSON.stringify([event.repo.fullName, run.pipeline, refKey]),
      });
    }
  }
  return { deliveries, runs, firstIndex };
}

/**
 * New runs replaced by a later run of the same key in the same batch, each mapped to the run that
 * replaced it first (as if the deliveries had been accepted one by one).
 */
export function supersedeWithinBatch(runs: readonly NewRunRow[]): Map<string, NewRunRow> {
  const replaced = new Map<string, NewRunRow>();
  const waiting = new Map<string, NewRunRow>();
  for (const run of runs) {
    const previous = waiting.get(run.key);
    if (previous && previous.deliveryId !== run.deliveryId) replaced.set(previous.id, run);
    waiting.set(run.key, run);
  }
  return replaced;
}
