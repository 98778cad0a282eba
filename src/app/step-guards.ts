/**
 * Wiring of `exec/kill-orphans.ts`: each step's group leader gets a parent-death signal, each group is
 * recorded in the store while it runs, and after every recovery the groups of runs that no longer run are
 * killed (when still ours).
 */
import os from "node:os";
import {
  currentBootId,
  findSetpriv,
  killOrphanedSteps,
  type StepGuard,
  withParentDeathSignal,
} from "../exec/kill-orphans.ts";
import type { Executor } from "../store/database.ts";
import type { Logger } from "../store/logger.ts";
import { stepProcesses } from "../store/step-processes.ts";

export interface StepGuards {
  forRun(runId: string): StepGuard;
  killOrphans(): Promise<void>;
}

export function createStepGuards(db: Executor, logger: Pick<Logger, "warn">): StepGuards {
  const setpriv = findSetpriv();
  const bootId = currentBootId();
  const records = stepProcesses(db, { host: os.hostname(), bootId: bootId ?? "unknown" });
  return {
    forRun(runId) {
      // In order: a group's row is deleted only after it was written.
      let writes: Promise<void> = Promise.resolve();
      const write = (what: () => Promise<void>) => {
        writes = writes
          .then(what)
          .catch((error: unknown) =>
            logger.warn({ err: error, runId }, "could not record a step's processes"),
          );
      };
      return {
        wrap: (command) => withParentDeathSignal(command, setpriv),
        started: (pgid) => write(() => records.started(runId, pgid)),
        ended: (pgid) => write(() => records.ended(runId, pgid)),
      };
    },
    killOrphans: async () => {
      await killOrphanedSteps(records, bootId, logger);
    },
  };
}
