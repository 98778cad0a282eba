/**
 * Where each configured notification goes, read from the server's environment at start-up: a variable a
 * notification names that is not set (or holds something unusable) is a start-up error, as the contract asks,
 * rather than a notification that silently never arrives. Pure: it takes the environment.
 */
import type { Config, NotificationConfig } from "../config/schema.ts";
import { webhookSecretProblem } from "./send-webhook.ts";

export type NotificationTarget =
  | { readonly channel: "slack"; readonly url: string }
  | { readonly channel: "webhook"; readonly url: string; readonly secret: string };

export type NotificationTargets = ReadonlyMap<string, NotificationTarget>;

export type TargetsResult =
  | { readonly ok: true; readonly targets: NotificationTargets }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The channel a notification's config names. */
export const channelOf = (notification: NotificationConfig): "slack" | "webhook" =>
  notification.slack !== undefined ? "slack" : "webhook";

/**
 * Resolves every notification's target (or only the one named `only`); every problem is reported at once, none
 * names a secret's value.
 */
export function resolveNotificationTargets(
  config: Config,
  env: NodeJS.ProcessEnv,
  only?: string,
): TargetsResult {
  const errors: string[] = [];
  const targets = new Map<string, NotificationTarget>();
  config.notifications.forEach((notification, index) => {
    if (only !== undefined && notification.name !== only) return;
    const where = `notifications[${index}] (${notification.name})`;
    if (notification.slack !== undefined) {
      const name = notification.slack;
      const url = env[name]?.trim();
      if (!url) errors.push(`${where}: slack: ${name} is not set in the server's environment`);
      else if (!/^https?:\/\/[^\s/]+/i.test(url))
        errors.push(`${where}: slack: ${name} is not an http(s) URL (a Slack incoming-webhook URL)`);
      else targets.set(notification.name, { channel: "slack", url });
    } else if (notification.webhook !== undefined) {
      const name = notification.webhook.secret;
      const secret = env[name]?.trim();
      const problem = secret ? webhookSecretProblem(secret) : undefined;
      if (!secret) errors.push(`${where}: webhook.secret: ${name} is not set in the server's environment`);
      else if (problem) errors.push(`${where}: webhook.secret: ${name} is ${problem}`);
      else targets.set(notification.name, { channel: "webhook", url: notification.webhook.url, secret });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, targets };
}

/** Values to mask in everything a notification sends: pipelines' declared secrets and the channels' own. */
export function notificationSecretValues(
  config: Config,
  env: NodeJS.ProcessEnv,
  targets: NotificationTargets,
): string[] {
  const values = new Set<string>();
  for (const pipeline of Object.values(config.pipelines))
    for (const name of pipeline.secrets) {
      const value = env[name];
      if (value) values.add(value);
    }
  for (const target of targets.values()) {
    if (target.channel === "slack") values.add(target.url);
    else values.add(target.secret);
  }
  return [...values];
}
