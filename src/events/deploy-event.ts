/**
 * The one shape the core sees. Raw webhook payloads stop at the edge (`normalise-*.ts`); everything after
 * that — matching, planning, queueing, running, reporting — works on a `DeployEvent`.
 */

/** Files changed by the event, or why we cannot know them from the payload alone. */
export type ChangedFiles =
  | { readonly known: true; readonly files: readonly string[] }
  | { readonly known: false; readonly reason: string };

export interface RepoRef {
  readonly owner: string;
  readonly name: string;
  /** `owner/name` */
  readonly fullName: string;
  /** HTTPS (or GHES http/https) clone URL of the base repository; never carries credentials. */
  readonly cloneUrl: string;
  readonly private: boolean;
}

interface DeployEventBase {
  /** `X-GitHub-Delivery`: the same id comes back when GitHub redelivers. */
  readonly deliveryId: string;
  readonly repo: RepoRef;
  readonly installationId: number | undefined;
  /** The exact commit to build: push `after`, pull request `head.sha`. */
  readonly sha: string;
  /** Full ref the commit was reached by: `refs/heads/x`, `refs/tags/x`, `refs/pull/N/head`. */
  readonly ref: string;
  readonly changedFiles: ChangedFiles;
  /** Login of whoever caused the event. */
  readonly sender: string;
  /** Set when a `/deploy-bot` comment started the runs: where it was written and what it asked. */
  readonly command?: CommandOrigin;
}

/** The comment command behind runs it started (recorded with them; shown in the one bot comment). */
export interface CommandOrigin {
  /** The command line as written. */
  readonly text: string;
  readonly by: string;
  /** The issue or pull request the command was written on; the bot's one comment there reports the runs. */
  readonly issueNumber: number;
  /** For a rollback: the SHA being replaced. */
  readonly rollbackOf?: string;
}

export interface PushEvent extends DeployEventBase {
  readonly kind: "push";
  readonly action: "push";
  /** Set for a branch push; a tag push is never a branch push. */
  readonly branch: string | undefined;
  /** Set for a tag push. */
  readonly tag: string | undefined;
  /** The previous tip; the zero SHA when the ref was created. */
  readonly before: string;
  readonly fork: false;
}

export interface PullRequestEvent extends DeployEventBase {
  readonly kind: "pull_request";
  /** `opened`, `synchronize`, `reopened`, ... */
  readonly action: string;
  readonly prNumber: number;
  /** The head branch name (in the head repository, which may be a fork). */
  readonly branch: string;
  readonly tag: undefined;
  readonly baseBranch: string;
  readonly title: string;
  readonly draft: boolean;
  /** True when the head repository is not the base repository: its code is untrusted. */
  readonly fork: boolean;
  /** `owner/name` of the head repository (equals `repo.fullName` unless `fork`). */
  readonly headRepoFullName: string;
  /** Labels on the PR at the time of the event (used for fork approval). */
  readonly labels: readonly string[];
}

/**
 * A tick of a scheduled rule (`on.schedule`): not a webhook. The branch head was resolved through the API
 * at the tick, so `sha` is that exact commit; `deliveryId` is `schedule:<rule>:<repo>:<tick ISO>`.
 */
export interface ScheduleEvent extends DeployEventBase {
  readonly kind: "schedule";
  readonly action: "schedule";
  /** The rule whose schedule fired; only that rule matches the event. */
  readonly rule: string;
  readonly cron: string;
  /** The tick this event stands for (ISO 8601, UTC). */
  readonly tick: string;
  readonly branch: string;
  readonly tag: undefined;
  readonly fork: false;
}

export type DeployEvent = PushEvent | PullRequestEvent | ScheduleEvent;

/** A delivery the bot deliberately does nothing with. Not an error: it says why. */
export interface Ignored {
  readonly ignored: true;
  readonly reason: string;
}

export const ignored = (reason: string): Ignored => ({ ignored: true, reason });

export const isIgnored = (value: unknown): value is Ignored =>
  typeof value === "object" && value !== null && (value as Ignored).ignored === true;

export const ZERO_SHA = "0000000000000000000000000000000000000000";
