/**
 * Pure decision: after runs of one delivery change state, which waiting runs can now start, which `manual`
 * runs now wait for a deploy command (`waiting`), and which can never start because a pipeline they need did
 * not pass.
 */
import { FINAL_RUN_STATES, type RunState } from "../runs/run.ts";

export interface ChainRun {
  readonly id: string;
  readonly pipeline: string;
  readonly needs: readonly string[];
  readonly state: RunState;
  /** Whether the run already has a queue job. */
  readonly enqueued: boolean;
  /** Arrival order within the delivery; a re-queued copy comes after the run it replaces. */
  readonly seq: number;
  /** `manual: true`: when its needs pass it waits for a command instead of being queued. */
  readonly manual?: boolean;
}

export interface DependentsDecision {
  readonly enqueue: readonly string[];
  /** Manual runs whose needs all passed: they become `waiting`. */
  readonly wait: readonly string[];
  readonly skip: readonly { readonly id: string; readonly detail: string }[];
}

/**
 * Looks at the latest run of each pipeline (a re-queued copy supersedes the interrupted original) and
 * repeats until nothing changes, so a skip cascades down a chain.
 */
export function decideDependents(runs: readonly ChainRun[]): DependentsDecision {
  const states = new Map(runs.map((run) => [run.id, run.state]));
  const latest = new Map<string, ChainRun>();
  for (const run of [...runs].sort((a, b) => a.seq - b.seq)) latest.set(run.pipeline, run);
  const enqueue: string[] = [];
  const wait: string[] = [];
  const skip: { id: string; detail: string }[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (const run of latest.values()) {
      if (
        states.get(run.id) !== "queued" ||
        run.enqueued ||
        enqueue.includes(run.id) ||
        run.needs.length === 0
      ) {
        continue;
      }
      const needStates = run.needs.map((need) => {
        const needed = latest.get(need);
        return { need, state: needed ? states.get(needed.id) : undefined };
      });
      const failed = needStates.find(
        ({ state }) => state === undefined || (FINAL_RUN_STATES.has(state) && state !== "passed"),
      );
      if (failed) {
        states.set(run.id, "skipped");
        skip.push({ id: run.id, detail: `${failed.need} failed` });
        changed = true;
      } else if (needStates.every(({ state }) => state === "passed")) {
        if (run.manual) {
          states.set(run.id, "waiting");
          wait.push(run.id);
        } else enqueue.push(run.id);
        changed = true;
      }
    }
  }
  return { enqueue, wait, skip };
}
