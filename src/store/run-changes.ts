/**
 * Every transaction that changes runs tells `onChange` which, inside that same transaction, so whatever must
 * follow a change (a report to GitHub, a Deployment status, a notification) is recorded atomically with it:
 * committed together, or not at all.
 */
import type { Transaction } from "./database.ts";

export type RunChangeCause =
  | "accepted"
  | "claimed"
  | "step"
  | "finished"
  | "recovered"
  | "approved"
  /** A `/deploy-bot` command started runs (new ones, or waiting manual ones). */
  | "command";

export interface RunChange {
  readonly cause: RunChangeCause;
  /** Runs whose state (or, for `step`, a step's state) this transaction changed; read them through `tx`. */
  readonly runIds: readonly string[];
}

/** Runs inside the changing transaction: throwing rolls the change back. */
export type OnRunChange = (tx: Transaction, change: RunChange) => Promise<void>;

/** One `OnRunChange` that calls each of `handlers` in order. */
export function allOf(...handlers: readonly (OnRunChange | undefined)[]): OnRunChange | undefined {
  const present = handlers.filter((handler): handler is OnRunChange => handler !== undefined);
  if (present.length === 0) return undefined;
  return async (tx, change) => {
    for (const handler of present) await handler(tx, change);
  };
}
