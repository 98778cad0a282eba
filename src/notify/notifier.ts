/**
 * Notifications, durably: `onChange` runs inside every transaction that changes runs and records one outbox
 * message (topic `notification`) per notification a run's new outcome matches, so the message commits with the
 * state it reports (a crash neither loses nor duplicates it); `deliver` is the outbox handler that sends it.
 * The message carries the rendered, masked body (the same bytes on every retry), never a URL or a secret:
 * those are looked up by the notification's name when sending.
 */
import type { Config, NotificationOutcome } from "../config/schema.ts";
import type { NotificationMetrics } from "../observe/metrics.ts";
import type { Delivered } from "../outbox/drain-outbox.ts";
import { enqueueOutbox, type OutboxMessage, type StoredOutboxMessage } from "../outbox/outbox.ts";
import { lastLines } from "../report/log-tail.ts";
import { FINAL_RUN_STATES, type RunRecord, type RunState } from "../runs/run.ts";
import { loadRuns } from "../store/load-runs.ts";
import { readLogEnd } from "../store/log-end.ts";
import type { Logger } from "../store/logger.ts";
import type { OnRunChange } from "../store/run-changes.ts";
import { matchNotifications, notificationOutcome } from "./match-notification.ts";
import { failedStepIndex, type NotificationContext, notificationRun } from "./notification-run.ts";
import { channelOf, type NotificationTarget, type NotificationTargets } from "./notification-targets.ts";
import { renderSlack, type SlackMessage } from "./render-slack.ts";
import { renderWebhook } from "./render-webhook.ts";
import { loggableUrl, retryDelayMs, type SendResult } from "./send-result.ts";
import { sendSlack } from "./send-slack.ts";
import { sendWebhook, webhookId } from "./send-webhook.ts";

export const NOTIFICATION_TOPIC = "notification";

/** Lines of a failed step's log shown in a notification. */
export const NOTIFICATION_LOG_LINES = 10;

/** What one outbox message of topic `notification` holds. */
export interface NotificationPayload {
  readonly notification: string;
  readonly channel: "slack" | "webhook";
  readonly runId: string;
  readonly outcome: NotificationOutcome;
  /** Slack: the `{text, blocks}` message; webhook: the exact JSON text that is signed and sent. */
  readonly body: SlackMessage | string;
}

export interface NotifierOptions {
  readonly config: () => Config;
  readonly targets: NotificationTargets;
  readonly context: NotificationContext;
  readonly logger: Logger;
  readonly metrics?: NotificationMetrics;
  readonly now?: () => Date;
}

export interface Notifier {
  readonly onChange: OnRunChange;
  readonly deliver: (message: StoredOutboxMessage) => Promise<Delivered>;
}

/** The outbox key of one notification: unique per notification, run and outcome, so none coalesces away. */
export const notificationKey = (name: string, runId: string, outcome: NotificationOutcome): string =>
  `${name}:${runId}:${outcome}`;

/** Renders the notifications `run`'s current state sends (pure apart from `logTail`). */
export function notificationMessages(
  config: Config,
  run: RunRecord,
  context: NotificationContext,
  now: Date,
  logTail: readonly string[] = [],
): OutboxMessage[] {
  const outcome = notificationOutcome(run.state);
  if (outcome === undefined) return [];
  const matched = matchNotifications(run, outcome, config.notifications);
  if (matched.length === 0) return [];
  const view = notificationRun(run, outcome, context, logTail);
  return matched.map((notification) => {
    const channel = channelOf(notification);
    const payload: NotificationPayload = {
      notification: notification.name,
      channel,
      runId: run.id,
      outcome,
      body: channel === "slack" ? renderSlack(view) : JSON.stringify(renderWebhook(view, now)),
    };
    return { topic: NOTIFICATION_TOPIC, key: notificationKey(notification.name, run.id, outcome), payload };
  });
}

/** One attempt to send `body` to `target`; `id` is the Standard Webhooks `webhook-id`. */
export function sendTo(
  target: NotificationTarget,
  body: SlackMessage | string,
  id: string,
): Promise<SendResult> {
  if (target.channel === "slack") return sendSlack(target.url, body as SlackMessage);
  return sendWebhook(target, id, typeof body === "string" ? body : JSON.stringify(body));
}

/** Run states that have a notification outcome, as an SQL list. */
const OUTCOME_STATES = ([...FINAL_RUN_STATES, "running", "queued", "awaiting_approval"] as RunState[])
  .filter((state) => notificationOutcome(state) !== undefined)
  .map((state) => `'${state}'`)
  .join(", ");

export function createNotifier(options: NotifierOptions): Notifier {
  const now = options.now ?? (() => new Date());

  const onChange: OnRunChange = async (tx, change) => {
    // A step's progress is not an outcome, and approval only queues: neither is ever notified.
    if (change.cause === "step" || change.cause === "approved") return;
    const config = options.config();
    if (config.notifications.length === 0) return;
    // Most changes (queued, superseded, skipped runs) have no outcome: read whole runs only for those that do.
    const told = await tx.query<{ id: string }>(
      `SELECT id FROM runs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND state IN (${OUTCOME_STATES})`,
      [JSON.stringify(change.runIds)],
    );
    if (told.length === 0) return;
    const messages: OutboxMessage[] = [];
    for (const run of await loadRuns(
      tx,
      told.map((row) => row.id),
    )) {
      if (notificationOutcome(run.state) === undefined) continue;
      const failed = failedStepIndex(run);
      const tail =
        failed === undefined ? [] : lastLines(await readLogEnd(tx, run.id, failed), NOTIFICATION_LOG_LINES);
      messages.push(...notificationMessages(config, run, options.context, now(), tail));
    }
    await enqueueOutbox(tx, messages);
  };

  const deliver = async (message: StoredOutboxMessage): Promise<Delivered> => {
    const payload = message.payload as NotificationPayload;
    const target = options.targets.get(payload.notification);
    const log = { notification: payload.notification, channel: payload.channel, outcome: payload.outcome };
    if (!target || target.channel !== payload.channel) {
      options.logger.error(log, "notification dropped: it is no longer configured with this channel");
      options.metrics?.notification(payload.channel, "failed");
      return {
        ok: false,
        retryable: false,
        error: `notification "${payload.notification}" is not configured`,
      };
    }
    const result = await sendTo(target, payload.body, webhookId(message.key));
    const where = { ...log, url: loggableUrl(target.url), attempt: message.attempts + 1 };
    if (result.ok) {
      options.metrics?.notification(target.channel, "sent");
      options.logger.info({ ...where, status: result.status }, "notification sent");
      return { ok: true };
    }
    const error = maskUrl(result.error, target.url);
    options.metrics?.notification(target.channel, result.retryable ? "retry" : "failed");
    if (!result.retryable) {
      options.logger.error({ ...where, error }, "notification refused by the receiver: not retried");
      return { ok: false, retryable: false, error };
    }
    const retryAfterMs = result.retryAfterMs ?? retryDelayMs(message.attempts + 1);
    options.logger.warn({ ...where, error, retryAfterMs }, "notification not delivered: will retry");
    return { ok: false, retryable: true, retryAfterMs, error };
  };

  return { onChange, deliver };
}

/** An error text never carries the target URL (its path is the secret of a Slack webhook). */
const maskUrl = (text: string, url: string): string => text.split(url).join(loggableUrl(url));
