/** Posts one Slack message through an incoming webhook with `@slack/webhook`; one attempt, no retries. */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from "@slack/webhook";
import type { SlackMessage } from "./render-slack.ts";
import { resultOfAnswer, resultOfNetworkError, type SendResult } from "./send-result.ts";

export const SEND_TIMEOUT_MS = 10_000;

export async function sendSlack(
  url: string,
  message: SlackMessage,
  now = () => new Date(),
): Promise<SendResult> {
  // The library's errors carry the status and body but not the headers: keep `Retry-After` on the way by.
  let retryAfter: string | null = null;
  const webhook = new IncomingWebhook(url, {
    timeout: SEND_TIMEOUT_MS,
    retryConfig: { retries: 0 },
    fetch: async (input, init) => {
      const response = await fetch(input, init as RequestInit);
      retryAfter = response.headers.get("retry-after");
      return response;
    },
  });
  try {
    const result = await webhook.send({ text: message.text, blocks: message.blocks as never });
    return resultOfAnswer(200, result.text, null, now());
  } catch (error) {
    if (error instanceof IncomingWebhookHTTPError)
      return resultOfAnswer(error.statusCode, error.body, retryAfter, now());
    if (error instanceof IncomingWebhookRequestError) return resultOfNetworkError(error.original);
    return resultOfNetworkError(error);
  }
}
