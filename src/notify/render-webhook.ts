/**
 * The outgoing webhook's JSON envelope (contract, "Notifications"):
 * `{ "type": "run.<outcome>", "timestamp": <ISO 8601>, "data": { "run": {...} } }` with the full run. Pure;
 * the text is already masked (`notification-run.ts`).
 */
import type { NotificationRun } from "./notification-run.ts";

export interface WebhookEnvelope {
  readonly type: `run.${NotificationRun["outcome"]}`;
  readonly timestamp: string;
  readonly data: { readonly run: Record<string, unknown> };
}

/** `timestamp` is when the outcome happened: the same on every retry of one notification. */
export function renderWebhook(run: NotificationRun, timestamp: Date): WebhookEnvelope {
  return {
    type: `run.${run.outcome}`,
    timestamp: timestamp.toISOString(),
    data: {
      run: {
        id: run.id,
        url: run.url,
        repository: run.repository,
        pipeline: run.pipeline,
        environment: run.environment,
        state: run.state,
        outcome: run.outcome,
        description: run.description,
        sha: run.sha,
        ref: run.ref,
        branch: run.branch,
        tag: run.tag,
        pull_request: run.prNumber,
        event: run.event,
        action: run.action,
        sender: run.sender,
        trigger: run.trigger,
        delivery_id: run.deliveryId,
        commit_url: run.commitUrl,
        environment_url: run.environmentUrl,
        created_at: run.createdAt,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        duration_ms: run.durationMs,
        steps: run.steps,
        log_tail: run.logTail,
      },
    },
  };
}
