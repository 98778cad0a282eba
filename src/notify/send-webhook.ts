/**
 * POSTs one signed webhook per Standard Webhooks (`standardwebhooks` signs): `webhook-id` (the same on every
 * retry of one notification), `webhook-timestamp` (this attempt), `webhook-signature: v1,<base64>` over
 * `id.timestamp.body`. One attempt; redirects are not followed.
 */
import { createHash } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { resultOfAnswer, resultOfNetworkError, type SendResult } from "./send-result.ts";
import { SEND_TIMEOUT_MS } from "./send-slack.ts";

/** A `msg_…` id derived from the notification's outbox key, so every retry carries the same one. */
export function webhookId(key: string): string {
  return `msg_${createHash("sha256").update(key).digest("base64url").slice(0, 27)}`;
}

/** Whether `secret` is a usable Standard Webhooks secret (`whsec_` + base64); the reason when it is not. */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith("whsec_")) return 'not a Standard Webhooks secret: it must start with "whsec_"';
  try {
    new Webhook(secret);
  } catch {
    return "not a Standard Webhooks secret: the part after whsec_ must be base64";
  }
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  if (key.length < 24) return "too short: use at least 24 random bytes (whsec_ + base64)";
  return undefined;
}

export async function sendWebhook(
  target: { readonly url: string; readonly secret: string },
  id: string,
  body: string,
  now = () => new Date(),
): Promise<SendResult> {
  const timestamp = now();
  const signature = new Webhook(target.secret).sign(id, timestamp, body);
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "deploy-bot",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    const text = await response.text().catch(() => "");
    return resultOfAnswer(response.status, text, response.headers.get("retry-after"), now());
  } catch (error) {
    return resultOfNetworkError(error);
  }
}
