/**
 * Stand-in for deploy-bot while `src/main.ts` does not exist: deploy-bot's front door with a trivial
 * `onDelivery` (202) and a JSON-lines logger on stdout. Env: PORT, WEBHOOK_SECRET, WEBHOOK_PATH.
 */
import { createFrontDoor } from "../../src/server/front-door.ts";
import type { Logger } from "../../src/store/logger.ts";

const line =
  (level: string) =>
  (obj: object, msg?: string): void => {
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`);
  };
const logger: Logger = { info: line("info"), warn: line("warn"), error: line("error") };

const server = createFrontDoor({
  webhookPath: process.env.WEBHOOK_PATH ?? "/api/github/webhooks",
  secrets: [process.env.WEBHOOK_SECRET ?? ""],
  logger,
  onDelivery: async () => ({ status: 202, body: "accepted" }),
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
