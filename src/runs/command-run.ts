/** The runs a `/deploy-bot` command starts and the deploys it decides on: shared by the decisions and the store. */

/** One run a command starts. */
export interface CommandRunInput {
  readonly pipeline: string;
  readonly environment: string | null;
  /** Pipelines started by the same command that must pass first (a retried chain). */
  readonly needs: readonly string[];
  readonly stepNames: readonly string[];
  /** Waits for a deploy command once its needs passed (at once when it needs nothing). */
  readonly manual: boolean;
  /** Fork code run again from the Checks tab: it waits for a writer's approval like the first time. */
  readonly awaitingApproval?: boolean;
  /** The run this one runs again (`retry`). */
  readonly retryOf: string | null;
}

/** A passed run of an environment, as rollback decides on them. */
export interface DeployRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly sha: string;
  /** The full ref its event reached the commit by (`refs/heads/main`). */
  readonly ref: string;
  readonly finishedAt: Date;
}
