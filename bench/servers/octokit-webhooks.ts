/**
 * Baseline (c): `@octokit/webhooks` `createNodeMiddleware` with an empty handler, default logging.
 * Env: PORT, WEBHOOK_SECRET, WEBHOOK_PATH.
 */
import http from "node:http";
import { createNodeMiddleware, Webhooks } from "@octokit/webhooks";

const webhooks = new Webhooks({ secret: process.env.WEBHOOK_SECRET ?? "" });
webhooks.onAny(async () => {});
const middleware = createNodeMiddleware(webhooks, {
  path: process.env.WEBHOOK_PATH ?? "/api/github/webhooks",
});

const server = http.createServer(async (req, res) => {
  if (req.url === "/ping") {
    res.writeHead(200).end("PONG");
    return;
  }
  const handled = await middleware(req, res);
  if (!handled) res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
