/** Builds the notifier from the config and the server's environment (the composition root only wires it). */
import type { Config } from "../config/schema.ts";
import { maskText } from "../exec/mask-secrets.ts";
import type { NotificationMetrics } from "../observe/metrics.ts";
import type { Logger } from "../store/logger.ts";
import { notificationSecretValues, resolveNotificationTargets } from "./notification-targets.ts";
import { createNotifier, type Notifier } from "./notifier.ts";

export interface AppNotificationsOptions {
  readonly config: Config;
  readonly processEnv: NodeJS.ProcessEnv;
  readonly publicUrl: string | undefined;
  /** GitHub Enterprise Server API (`<protocol>://<host>/api/v3`), or undefined for github.com. */
  readonly githubApiUrl: string | undefined;
  readonly logger: Logger;
  readonly metrics?: NotificationMetrics;
}

/** The GitHub web host: `https://github.com`, or the GHES host the API lives on. */
export const githubWebUrl = (githubApiUrl: string | undefined): string =>
  githubApiUrl ? githubApiUrl.replace(/\/api\/v3\/?$/, "") : "https://github.com";

/** The notifier, or undefined when the config has no notifications. Throws on what start-up refuses. */
export function createAppNotifications(options: AppNotificationsOptions): Notifier | undefined {
  const { config, processEnv } = options;
  if (config.notifications.length === 0) return undefined;
  const resolved = resolveNotificationTargets(config, processEnv);
  if (!resolved.ok) throw new Error(resolved.errors.join("; "));
  const secrets = notificationSecretValues(config, processEnv, resolved.targets);
  return createNotifier({
    config: () => config,
    targets: resolved.targets,
    context: {
      publicUrl: options.publicUrl,
      githubWebUrl: githubWebUrl(options.githubApiUrl),
      mask: (text) => maskText(text, { secrets }),
    },
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}
