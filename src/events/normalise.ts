/** The edge between GitHub webhooks and the core: raw payloads in, `DeployEvent` or `Ignored` out. */
import { type DeployEvent, type Ignored, ignored } from "./deploy-event.ts";
import { normalisePullRequest } from "./normalise-pull-request.ts";
import { normalisePush } from "./normalise-push.ts";

/**
 * Normalises a webhook delivery. Never throws on a hostile or garbled payload: everything the bot does not act
 * on comes back as `Ignored` with a reason that can be logged and shown by `deploy-bot plan`.
 */
export function normaliseEvent(name: string, deliveryId: string, payload: unknown): DeployEvent | Ignored {
  switch (name) {
    case "push":
      return normalisePush(deliveryId, payload);
    case "pull_request":
      return normalisePullRequest(deliveryId, payload);
    default:
      return ignored(`${JSON.stringify(name)} events do not trigger pipelines`);
  }
}
