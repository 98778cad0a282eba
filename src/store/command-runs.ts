/**
 * What `/deploy-bot` commands read and write: a command is a delivery like any other — recorded once by its
 * delivery id, with the runs it starts and their queue jobs in the same transaction — so a redelivered command
 * does nothing twice. Reads give the decisions (`runs/command-decisions.ts`) what they need.
 */
import type { DeployEvent } from "../events/deploy-event.ts";
import { enqueueOutbox, type OutboxMessage } from "../outbox/outbox.ts";
import type { CommandRunInput, DeployRecord } from "../runs/command-run.ts";
import type { RerunGroup } from "../runs/rerun-decisions.ts";
import type { RunRecord } from "../runs/run.ts";
import { supersedeKey } from "../runs/supersede-key.ts";
import type { Database, Transaction } from "./database.ts";
import { loadRuns } from "./load-runs.ts";
import type { RunChange } from "./run-changes.ts";
import { newRunId } from "./run-keys.ts";

export interface CommandInput {
  readonly deliveryId: string;
  /** The webhook event that carried the command (default `issue_comment`; `check_run` for a button). */
  readonly eventName?: string;
  readonly repo: string;
  /** The event the new runs carry (exact SHA, where to report); null when the command starts nothing. */
  readonly event: DeployEvent | null;
  /** What the command asked and what came of it, in words (the deliveries table's `reason`). */
  readonly reason: string;
  /** `deploy`: a waiting manual run of this environment at `event.sha` starts instead of new `runs`. */
  readonly startWaiting?: { readonly environment: string };
  readonly runs: readonly CommandRunInput[];
}

export interface RerunInput {
  readonly deliveryId: string;
  /** `check_run` or `check_suite`. */
  readonly eventName: string;
  readonly repo: string;
  /** Who clicked: the new runs' `sender`. */
  readonly sender: string;
  readonly reason: string;
  readonly groups: readonly RerunGroup[];
}

export interface CommandResult {
  /** The delivery id was recorded before: nothing was done. */
  readonly duplicate: boolean;
  /** The runs the command started (waiting runs it released, or its new runs). */
  readonly runs: RunRecord[];
  /** True when waiting manual runs were started rather than new runs created. */
  readonly released: boolean;
}

export interface CommandRuns {
  /** Whether a delivery with this id was recorded (a redelivery). */
  isKnownDelivery(id: string): Promise<boolean>;
  /**
   * Records the command and starts its runs; `feedback` (given the delivery whose runs were started, if any)
   * is recorded in the outbox in the same transaction. A known delivery id records and sends nothing.
   */
  recordCommand(input: CommandInput, feedback: CommandFeedbackMessages): Promise<CommandResult>;
  /**
   * Records a re-run from the Checks tab and creates its runs, one delivery per event they repeat (the first
   * with the request's delivery id), with `feedback` in the same transaction. A known delivery id does nothing.
   */
  recordRerun(input: RerunInput, feedback: CommandFeedbackMessages): Promise<CommandResult>;
  /** Every run of `repo` at `sha`, oldest first. */
  runsAtSha(repo: string, sha: string): Promise<RunRecord[]>;
  /** Passed runs of `environment` in `repo`, newest first. */
  deploysOf(repo: string, environment: string, limit?: number): Promise<DeployRecord[]>;
  /** The runs of the newest delivery reported on issue or pull request `number` (for the one comment). */
  latestRunsOn(repo: string, number: number): Promise<RunRecord[]>;
}

/** The outbox messages that tell the commenter what became of the command. */
export type CommandFeedbackMessages = (startedDelivery: string | null) => readonly OutboxMessage[];

export interface CommandRunsDeps {
  readonly enqueue: (
    tx: Transaction,
    runs: readonly { id: string; environment: string | null }[],
  ) => Promise<void>;
  readonly tellChange: (tx: Transaction, change: RunChange) => Promise<void>;
  /** After a commit that queued jobs. */
  readonly notifyEnqueued: () => void;
}

export function commandRuns(db: Database, deps: CommandRunsDeps): CommandRuns {
  return {
    async isKnownDelivery(id) {
      return (await db.query("SELECT 1 FROM deliveries WHERE id = $1", [id])).length > 0;
    },

    async recordCommand(input, feedback) {
      const outcome = await db.transaction(async (tx) => {
        const starts = input.event !== null && (input.runs.length > 0 || input.startWaiting !== undefined);
        const inserted = await tx.query(
          `INSERT INTO deliveries (id, event_name, event, repo, sha, outcome, reason)
           VALUES ($1, $7, $2::jsonb, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
          [
            input.deliveryId,
            input.event === null ? null : JSON.stringify(input.event),
            input.repo,
            input.event?.sha ?? null,
            starts ? "planned" : "ignored",
            input.reason,
            input.eventName ?? "issue_comment",
          ],
        );
        if (inserted.length === 0)
          return { duplicate: true, ids: [] as string[], released: false, queued: false };
        const event = input.event;
        if (!starts || event === null) {
          await enqueueOutbox(tx, feedback(null));
          return { duplicate: false, ids: [], released: false, queued: false };
        }
        if (input.startWaiting) {
          const released = await tx.query<{ id: string; environment: string | null; seq: string }>(
            `UPDATE runs SET state = 'queued'
             WHERE repo = $1 AND environment = $2 AND sha = $3 AND state = 'waiting'
             RETURNING id, environment, seq`,
            [input.repo, input.startWaiting.environment, event.sha],
          );
          if (released.length > 0) {
            released.sort((a, b) => Number(a.seq) - Number(b.seq));
            await deps.enqueue(tx, released);
            const ids = released.map((row) => row.id);
            // The delivery of the released runs now reports to where a comment command was written, too.
            const owners = event.command
              ? await tx.query<{ id: string }>(
                  `UPDATE deliveries SET event = jsonb_set(event, '{command}', $2::jsonb)
                   WHERE id IN (SELECT delivery_id FROM runs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)))
                   RETURNING id`,
                  [JSON.stringify(ids), JSON.stringify(event.command)],
                )
              : await tx.query<{ id: string }>(
                  `SELECT delivery_id AS id FROM runs
                   WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq LIMIT 1`,
                  [JSON.stringify(ids)],
                );
            await deps.tellChange(tx, { cause: "command", runIds: ids });
            await enqueueOutbox(tx, feedback(owners[0]?.id ?? null));
            return { duplicate: false, ids, released: true, queued: true };
          }
          // Another deploy command released it a moment ago (or it already runs): one deploy, not two.
          const active = await tx.query<{ delivery_id: string }>(
            `SELECT delivery_id FROM runs
             WHERE repo = $1 AND environment = $2 AND sha = $3 AND manual AND state IN ('queued', 'running')
             ORDER BY seq LIMIT 1`,
            [input.repo, input.startWaiting.environment, event.sha],
          );
          if (active[0]) {
            await tx.query("UPDATE deliveries SET outcome = 'ignored', reason = $2 WHERE id = $1", [
              input.deliveryId,
              `${input.reason} (already queued or running)`,
            ]);
            await enqueueOutbox(tx, feedback(active[0].delivery_id));
            return { duplicate: false, ids: [] as string[], released: true, queued: false };
          }
        }
        const created = await insertRuns(tx, deps, input.deliveryId, input.repo, event, input.runs);
        await deps.tellChange(tx, { cause: "command", runIds: created.ids });
        await enqueueOutbox(tx, feedback(input.deliveryId));
        return { duplicate: false, ids: created.ids, released: false, queued: created.queued };
      });
      if (outcome.queued) deps.notifyEnqueued();
      return {
        duplicate: outcome.duplicate,
        runs: await loadRuns(db, outcome.ids),
        released: outcome.released,
      };
    },

    async recordRerun(input, feedback) {
      const outcome = await db.transaction(async (tx) => {
        const ids: string[] = [];
        let queued = false;
        for (const [index, group] of input.groups.entries()) {
          // One delivery per event the runs repeat; the first is the request's own id (what dedupes it).
          const deliveryId = index === 0 ? input.deliveryId : `${input.deliveryId}/${index + 1}`;
          const event = { ...group.event, deliveryId, sender: input.sender };
          const inserted = await tx.query(
            `INSERT INTO deliveries (id, event_name, event, repo, sha, outcome, reason)
             VALUES ($1, $2, $3::jsonb, $4, $5, 'planned', $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
            [deliveryId, input.eventName, JSON.stringify(event), input.repo, event.sha, input.reason],
          );
          if (inserted.length === 0) return { duplicate: true, ids: [] as string[], queued: false };
          const created = await insertRuns(tx, deps, deliveryId, input.repo, event, group.runs);
          ids.push(...created.ids);
          queued ||= created.queued;
        }
        await deps.tellChange(tx, { cause: "command", runIds: ids });
        await enqueueOutbox(tx, feedback(input.deliveryId));
        return { duplicate: false, ids, queued };
      });
      if (outcome.queued) deps.notifyEnqueued();
      return { duplicate: outcome.duplicate, runs: await loadRuns(db, outcome.ids), released: false };
    },

    async runsAtSha(repo, sha) {
      const rows = await db.query<{ id: string }>(
        "SELECT id FROM runs WHERE repo = $1 AND sha = $2 ORDER BY seq",
        [repo, sha],
      );
      return loadRuns(
        db,
        rows.map((row) => row.id),
      );
    },

    async deploysOf(repo, environment, limit = 50) {
      const rows = await db.query<{
        id: string;
        pipeline: string;
        sha: string;
        ref: string;
        finished_at: Date;
      }>(
        `SELECT r.id, r.pipeline, r.sha, d.event->>'ref' AS ref, r.finished_at
         FROM runs r JOIN deliveries d ON d.id = r.delivery_id
         WHERE r.repo = $1 AND r.environment = $2 AND r.state = 'passed' AND r.finished_at IS NOT NULL
         ORDER BY r.finished_at DESC, r.seq DESC LIMIT $3`,
        [repo, environment, limit],
      );
      return rows.map((row) => ({
        runId: row.id,
        pipeline: row.pipeline,
        sha: row.sha,
        ref: row.ref,
        finishedAt: new Date(row.finished_at),
      }));
    },

    async latestRunsOn(repo, number) {
      const rows = await db.query<{ delivery_id: string }>(
        `SELECT r.delivery_id FROM runs r JOIN deliveries d ON d.id = r.delivery_id
         WHERE r.repo = $1 AND (r.pr_number = $2 OR d.event->'command'->>'issueNumber' = $3)
         ORDER BY r.seq DESC LIMIT 1`,
        [repo, number, String(number)],
      );
      const deliveryId = rows[0]?.delivery_id;
      if (deliveryId === undefined) return [];
      const ids = await db.query<{ id: string }>("SELECT id FROM runs WHERE delivery_id = $1 ORDER BY seq", [
        deliveryId,
      ]);
      return loadRuns(
        db,
        ids.map((row) => row.id),
      );
    },
  };
}

/**
 * Creates `runs` of delivery `deliveryId` at `event.sha` in order, with their steps: fork code waits for
 * approval, a manual pipeline that needs nothing waits for its deploy, the other roots are queued and enqueued.
 */
async function insertRuns(
  tx: Transaction,
  deps: Pick<CommandRunsDeps, "enqueue">,
  deliveryId: string,
  repo: string,
  event: DeployEvent,
  runs: readonly CommandRunInput[],
): Promise<{ ids: string[]; queued: boolean }> {
  const rows = runs.map((run, ord) => ({
    ord,
    id: newRunId(),
    pipeline: run.pipeline,
    environment: run.environment,
    needs: run.needs,
    manual: run.manual,
    state: run.awaitingApproval
      ? "awaiting_approval"
      : run.manual && run.needs.length === 0
        ? "waiting"
        : "queued",
    // `retry_of` marks a crash's re-queued copy (never the PR comment's newest delivery); a command's
    // retry is a delivery of its own, so the one comment shows it.
    retry_of: null,
    step_names: run.stepNames,
  }));
  await tx.query(
    `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pr_number, pipeline, environment, needs, state,
                       manual, retry_of, rollback_of)
     SELECT x.id, $2, $3, $4, $5, $6, x.pipeline, x.environment, x.needs, x.state, x.manual, x.retry_of, $7
     FROM jsonb_to_recordset($1::jsonb)
       AS x(id text, pipeline text, environment text, needs jsonb, state text, manual boolean, retry_of text,
            ord integer)
     ORDER BY ord`,
    [
      JSON.stringify(rows),
      deliveryId,
      repo,
      supersedeKey(event),
      event.sha,
      // The issue or PR the command was written on: its one comment reports these runs.
      event.kind === "pull_request" ? event.prNumber : (event.command?.issueNumber ?? null),
      event.command?.rollbackOf ?? null,
    ],
  );
  await tx.query(
    `INSERT INTO steps (run_id, idx, name)
     SELECT run_id, idx, name FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, idx integer, name text)`,
    [
      JSON.stringify(
        rows.flatMap((row) => row.step_names.map((name, idx) => ({ run_id: row.id, idx, name }))),
      ),
    ],
  );
  const roots = rows.filter((row) => row.needs.length === 0 && row.state === "queued");
  await deps.enqueue(tx, roots);
  return { ids: rows.map((row) => row.id), queued: roots.length > 0 };
}
