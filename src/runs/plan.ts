/** What a webhook would run, decided purely from the config and a `DeployEvent` (see `plan-event.ts`). */
import type { ForksPolicy } from "../config/schema.ts";

/** One pipeline to run for an event. A pipeline named by several matching rules appears once. */
export interface PlannedRun {
  readonly pipeline: string;
  /** Pipelines of the same plan that must pass before this one starts (its predecessors in every rule). */
  readonly needs: readonly string[];
  readonly environment: string | undefined;
  /** Strictest fork policy of the rules that named this pipeline (never > approve > run). */
  readonly forks: ForksPolicy;
  /** Set for a `manual` pipeline: after its needs pass it waits for `/deploy-bot deploy <environment>`. */
  readonly manual?: true;
}

export interface MatchedRule {
  readonly rule: string;
  readonly pipelines: readonly string[];
  /** Set when a filter could not be applied: `changed files unknown (new branch): paths filter not applied`. */
  readonly note?: string;
}

export interface UnmatchedRule {
  readonly rule: string;
  /** Why not, for humans: `branch "dev" does not match branches [main]`. */
  readonly reason: string;
}

export interface Plan {
  readonly matched: readonly MatchedRule[];
  readonly unmatched: readonly UnmatchedRule[];
  /** In execution order (a run comes after every run it needs). Empty when nothing matched. */
  readonly runs: readonly PlannedRun[];
}

/**
 * The plan cannot be decided yet because a rule filters on paths and the event's changed files are not in
 * the payload (pull requests). The caller lists the files (GitHub API) and plans again.
 */
export interface NeedsChangedFiles {
  readonly needsChangedFiles: true;
  /** Rules that need the files. */
  readonly rules: readonly string[];
}
