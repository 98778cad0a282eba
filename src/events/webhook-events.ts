/**
 * The webhook events deploy-bot handles, named and typed by `@octokit/webhooks` (GitHub's own webhook schema):
 * a misspelt event name or payload field is a type error, and a test checks `app.yml` subscribes to each.
 * Payloads are still untrusted at run time — the `normalise-*` readers check every field they use.
 */
import type { EmitterWebhookEvent, EmitterWebhookEventName } from "@octokit/webhooks";

/** A webhook event name as GitHub sends it in `X-GitHub-Event` (no `.action` suffix). */
export type WebhookEventName = Exclude<EmitterWebhookEventName, `${string}.${string}`>;

/** The payload GitHub's schema describes for an event. */
export type WebhookPayload<E extends WebhookEventName> = EmitterWebhookEvent<E>["payload"];

/** Events whose deliveries can run pipelines. */
export const PIPELINE_EVENTS: ReadonlySet<string> = new Set<WebhookEventName>(["push", "pull_request"]);

/**
 * Every event the router acts on: pipeline events, `/deploy-bot` comments, and re-runs and buttons from the
 * Checks tab (`check_run`, `check_suite`: only the actions in `normalise-check-request.ts`).
 */
export const HANDLED_EVENTS: readonly WebhookEventName[] = [
  "push",
  "pull_request",
  "issue_comment",
  "check_run",
  "check_suite",
];
