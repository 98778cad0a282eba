/**
 * Which outbox messages a change of runs makes, and what they carry. Pure.
 *
 * | topic            | key                         | payload                     | the handler sends                         |
 * |------------------|-----------------------------|-----------------------------|-------------------------------------------|
 * | `github-status`  | the delivery id             | `{ deliveryId }`            | the commit status of each of its runs     |
 * | `github-check`   | the delivery id             | `{ deliveryId }`            | the check run of each of its runs         |
 * | `github-comment` | `owner/name#<pr>`, lower    | `{ repo, prNumber }`        | the PR's one comment, for its newest head |
 *
 * One message per delivery (and per pull request), not per change: a pending message with the same key is
 * replaced, so a burst of changes costs one report, and the handler reads the runs as they are when it sends.
 * A delivery's runs are reported as commit statuses or, with `settings.checks: true`, as check runs; never both.
 */

export const STATUS_TOPIC = "github-status";
export const CHECK_TOPIC = "github-check";
export const COMMENT_TOPIC = "github-comment";

/** A run the change touched, as far as reporting needs to know. */
export interface ChangedRun {
  readonly deliveryId: string;
  readonly repo: string;
  readonly prNumber: number | null;
}

export interface StatusPayload {
  readonly deliveryId: string;
}

export interface CommentPayload {
  readonly repo: string;
  readonly prNumber: number;
}

export interface ReportMessage {
  readonly topic: typeof STATUS_TOPIC | typeof CHECK_TOPIC | typeof COMMENT_TOPIC;
  readonly key: string;
  readonly payload: StatusPayload | CommentPayload;
}

/**
 * The messages for `runs`, one per delivery (a status or, with `checks`, a check run message) and one per pull
 * request, in first-seen order.
 */
export function reportMessages(
  runs: readonly ChangedRun[],
  options: { checks?: boolean } = {},
): ReportMessage[] {
  const messages = new Map<string, ReportMessage>();
  const topic = options.checks ? CHECK_TOPIC : STATUS_TOPIC;
  for (const run of runs) {
    const status = `${topic} ${run.deliveryId}`;
    if (!messages.has(status))
      messages.set(status, {
        topic,
        key: run.deliveryId,
        payload: { deliveryId: run.deliveryId },
      });
    if (run.prNumber === null) continue;
    const key = commentKey(run.repo, run.prNumber);
    if (!messages.has(`${COMMENT_TOPIC} ${key}`))
      messages.set(`${COMMENT_TOPIC} ${key}`, {
        topic: COMMENT_TOPIC,
        key,
        payload: { repo: run.repo.toLowerCase(), prNumber: run.prNumber },
      });
  }
  return [...messages.values()];
}

export function commentKey(repo: string, prNumber: number): string {
  return `${repo}#${prNumber}`.toLowerCase();
}

/** The payload of a `github-status` or `github-check` message, or undefined if it is not one. */
export function parseStatusPayload(payload: unknown): StatusPayload | undefined {
  const p = payload as Partial<StatusPayload> | null;
  return typeof p?.deliveryId === "string" && p.deliveryId !== "" ? { deliveryId: p.deliveryId } : undefined;
}

/** The payload of a `github-comment` message, or undefined if it is not one. */
export function parseCommentPayload(payload: unknown): CommentPayload | undefined {
  const p = payload as Partial<CommentPayload> | null;
  return typeof p?.repo === "string" && Number.isSafeInteger(p.prNumber) && (p.prNumber ?? 0) > 0
    ? { repo: p.repo, prNumber: p.prNumber as number }
    : undefined;
}
