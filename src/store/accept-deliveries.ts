/**
 * Recording deliveries: each delivery and its runs, what they supersede, and what can start, in one
 * transaction per batch (group commit).
 */
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";
import { type NewRunRow, planAcceptance, supersedeWithinBatch } from "../runs/plan-acceptance.ts";
import type { RunRecord } from "../runs/run.ts";
import { shortSha } from "../runs/supersede-key.ts";
import { loadRuns, runsForDelivery } from "./load-runs.ts";
import { newRunId } from "./run-keys.ts";
import { settleDependents } from "./settle-dependents.ts";
import { settleStepsOf } from "./settle-steps.ts";
import type { StoreContext } from "./store-context.ts";

export interface AcceptResult {
  /** The delivery id was seen before: nothing was recorded or queued; `runs` are the first delivery's. */
  readonly duplicate: boolean;
  readonly runs: RunRecord[];
  /** Older still-waiting runs this delivery replaced (state `superseded`, detail = new short SHA). */
  readonly superseded: RunRecord[];
  /** Runs of older deliveries that can no longer start because a run they needed was superseded. */
  readonly skipped: RunRecord[];
}

/**
 * Records deliveries and their runs, supersedes what they replace and queues what can start, all in
 * one transaction with a fixed number of statements whatever the batch size (group commit). The result
 * is the same as accepting them one after another in the given order.
 */
export async function acceptDeliveries(
  ctx: StoreContext,
  inputs: readonly AcceptDeliveryInput[],
): Promise<AcceptResult[]> {
  const { db, jobs } = ctx;
  if (inputs.length === 0) return [];
  const plan = planAcceptance(inputs, newRunId);
  const outcome = await db.transaction(async (tx) => {
    const inserted = new Set(
      (
        await tx.query<{ id: string }>(
          `INSERT INTO deliveries (id, event_name, event, repo, sha, outcome, reason)
           SELECT id, event_name, event, repo, sha, outcome, reason
           FROM jsonb_to_recordset($1::jsonb)
             AS x(id text, event_name text, event jsonb, repo text, sha text, outcome text, reason text)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [JSON.stringify(plan.deliveries)],
        )
      ).map((row) => row.id),
    );
    const runs = plan.runs.filter((run) => inserted.has(run.deliveryId));
    if (runs.length === 0) {
      // Only duplicates or deliveries that run nothing: there is nothing to supersede or queue.
      const none = {
        skipped: [] as { id: string; deliveryId: string }[],
        waited: [] as string[],
        enqueued: false,
      };
      return {
        inserted,
        supersededOld: [],
        supersededNew: new Map<string, NewRunRow>(),
        dependents: none,
        enqueued: false,
      };
    }
    // Older waiting runs (only runs that have not started: a running deploy is never touched) are
    // replaced by the first new run with their key; new runs are then replaced by the next one.
    const firstOfKey = new Map<string, (typeof runs)[number]>();
    for (const run of runs) if (!firstOfKey.has(run.key)) firstOfKey.set(run.key, run);
    const supersededOld = await tx.query<{ id: string; delivery_id: string; by: string }>(
      `UPDATE runs r SET state = 'superseded', detail = x.detail, finished_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS x(repo text, pipeline text, ref_key text, detail text, by text)
       WHERE r.repo = x.repo AND r.pipeline = x.pipeline AND r.ref_key = x.ref_key
         AND r.state IN ('queued', 'awaiting_approval', 'waiting')
       RETURNING r.id, r.delivery_id, x.by`,
      [
        JSON.stringify(
          [...firstOfKey.values()].map((run) => ({
            repo: run.repo,
            pipeline: run.pipeline,
            ref_key: run.refKey,
            detail: shortSha(run.sha),
            by: run.deliveryId,
          })),
        ),
      ],
    );
    await settleStepsOf(
      tx,
      supersededOld.map((row) => row.id),
      "superseded",
    );
    const supersededNew = supersedeWithinBatch(runs);
    await tx.query(
      `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state,
                         detail, finished_at, manual)
       SELECT id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state, detail,
              CASE WHEN state = 'superseded' THEN now() END, coalesce(manual, false)
       FROM jsonb_to_recordset($1::jsonb)
         AS x(id text, delivery_id text, repo text, ref_key text, sha text, pr_number integer, pipeline text,
              environment text, needs jsonb, state text, detail text, ord integer, manual boolean)
       ORDER BY ord`,
      [
        JSON.stringify(
          runs.map((run, ord) => {
            const by = supersededNew.get(run.id);
            return {
              ord,
              id: run.id,
              delivery_id: run.deliveryId,
              repo: run.repo,
              ref_key: run.refKey,
              sha: run.sha,
              pr_number: run.prNumber,
              pipeline: run.pipeline,
              environment: run.environment,
              needs: run.needs,
              state: by ? "superseded" : run.initialState,
              detail: by ? shortSha(by.sha) : null,
              manual: run.manual === true,
            };
          }),
        ),
      ],
    );
    await tx.query(
      `INSERT INTO steps (run_id, idx, name, state)
       SELECT run_id, idx, name, state FROM jsonb_to_recordset($1::jsonb)
         AS x(run_id text, idx integer, name text, state text)`,
      [
        JSON.stringify(
          runs.flatMap((run) =>
            run.stepNames.map((name, idx) => ({
              run_id: run.id,
              idx,
              name,
              state: supersededNew.has(run.id) ? "skipped" : "pending",
            })),
          ),
        ),
      ],
    );
    const dependents = await settleDependents(jobs, tx, [
      ...supersededOld.map((row) => row.delivery_id),
      ...runs.filter((run) => supersededNew.has(run.id)).map((run) => run.deliveryId),
    ]);
    const roots = runs.filter(
      (run) => run.initialState === "queued" && run.needs.length === 0 && !supersededNew.has(run.id),
    );
    await jobs.enqueue(tx, roots);
    await ctx.tellChange(tx, {
      cause: "accepted",
      runIds: [
        ...runs.map((run) => run.id),
        ...supersededOld.map((row) => row.id),
        ...dependents.skipped.map((row) => row.id),
      ],
    });
    return {
      inserted,
      supersededOld,
      supersededNew,
      dependents,
      enqueued: dependents.enqueued || roots.length > 0,
    };
  });
  if (outcome.enqueued) ctx.notifyEnqueued();

  // Which delivery replaced which runs (and, through them, skipped which), for each delivery's report.
  const supersededBy = new Map<string, string[]>();
  const add = (deliveryId: string, runId: string) =>
    supersededBy.set(deliveryId, [...(supersededBy.get(deliveryId) ?? []), runId]);
  for (const row of outcome.supersededOld) add(row.by, row.id);
  for (const [runId, by] of outcome.supersededNew) add(by.deliveryId, runId);
  const causeOf = new Map<string, string>();
  for (const row of outcome.supersededOld) causeOf.set(row.delivery_id, row.by);
  for (const run of plan.runs)
    if (outcome.supersededNew.has(run.id))
      causeOf.set(run.deliveryId, outcome.supersededNew.get(run.id)!.deliveryId);
  const skippedBy = new Map<string, string[]>();
  for (const skipped of outcome.dependents.skipped) {
    const cause = causeOf.get(skipped.deliveryId);
    if (cause) skippedBy.set(cause, [...(skippedBy.get(cause) ?? []), skipped.id]);
  }
  const loaded = new Map(
    (
      await loadRuns(db, [
        ...plan.runs.filter((run) => outcome.inserted.has(run.deliveryId)).map((run) => run.id),
        ...outcome.supersededOld.map((row) => row.id),
        ...outcome.dependents.skipped.map((row) => row.id),
      ])
    ).map((run) => [run.id, run]),
  );
  const pick = (ids: readonly string[] | undefined) =>
    (ids ?? []).flatMap((id) => {
      const run = loaded.get(id);
      return run ? [run] : [];
    });
  const results: AcceptResult[] = [];
  for (const [index, input] of inputs.entries()) {
    if (plan.firstIndex.get(input.deliveryId) !== index || !outcome.inserted.has(input.deliveryId)) {
      results.push({
        duplicate: true,
        runs: await runsForDelivery(db, input.deliveryId),
        superseded: [],
        skipped: [],
      });
      continue;
    }
    results.push({
      duplicate: false,
      runs: pick(plan.runs.filter((run) => run.deliveryId === input.deliveryId).map((run) => run.id)),
      superseded: pick(supersededBy.get(input.deliveryId)),
      skipped: pick(skippedBy.get(input.deliveryId)),
    });
  }
  return results;
}
