/** The run lifecycle shared by the store, the queue, the runner and the reporters. */
import type { DeployEvent } from "../events/deploy-event.ts";

/**
 * queued → running → passed | failed | timed_out | cancelled | superseded | interrupted | skipped | error.
 * A fork pull request's runs start as `awaiting_approval` (reported as an `error` status "Awaiting approval")
 * and become `queued` when a writer approves that exact head SHA. A `manual` pipeline's run becomes `waiting`
 * (reported `pending`) once the runs it needs passed, and `queued` when a writer's deploy command starts it.
 * `failed`/`timed_out` mean *your pipeline* failed; `error`, `cancelled`, `superseded`, `interrupted` and
 * `skipped` mean the bot did not (or could not) run it to the end. Error is not failure.
 */
export type RunState =
  | "awaiting_approval"
  /** A `manual` pipeline whose predecessors passed: it starts on `/deploy-bot deploy <environment>`. */
  | "waiting"
  | "queued"
  | "running"
  | "passed"
  | "failed"
  | "timed_out"
  | "cancelled"
  | "superseded"
  | "interrupted"
  | "skipped"
  | "error";

export const FINAL_RUN_STATES: ReadonlySet<RunState> = new Set([
  "passed",
  "failed",
  "timed_out",
  "cancelled",
  "superseded",
  "interrupted",
  "skipped",
  "error",
]);

export type StepState =
  | "pending"
  | "running"
  | "passed"
  | "failed"
  | "timed_out"
  | "cancelled"
  | "error"
  | "skipped";

export interface StepRecord {
  readonly index: number;
  readonly name: string;
  readonly state: StepState;
  /** Exit code for a finished process (failed or passed). */
  readonly exitCode: number | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** A change of one step's state, as the runner reports it and the store records it. */
export interface StepUpdate {
  readonly index: number;
  readonly state: StepState;
  readonly exitCode?: number | null;
  /** A finished step reported this `environment_url` through `DEPLOYBOT_OUTPUT` (already checked). */
  readonly environmentUrl?: string;
}

export interface RunRecord {
  /** Unguessable (128 random bits, base64url): it is the capability to read the run page. */
  readonly id: string;
  readonly deliveryId: string;
  readonly pipeline: string;
  readonly environment: string | null;
  /** Pipelines of the same delivery that must pass before this one runs. */
  readonly needs: readonly string[];
  readonly state: RunState;
  /**
   * Why the run ended as it did, in words (no secrets): `Unit tests exited with 1`, `1a2b3c4`
   * (superseded by), `Checkout failed: ...`, `test failed` (skipped because).
   */
  readonly detail: string | null;
  readonly event: DeployEvent;
  readonly steps: readonly StepRecord[];
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** The run's environment URL, as a step reported it (`DEPLOYBOT_OUTPUT`); absent or null when none. */
  readonly environmentUrl?: string | null;
  /** For a rollback run: the SHA it replaces (`payload.rollback_of` of its Deployment). */
  readonly rollbackOf?: string | null;
}
