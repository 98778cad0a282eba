/**
 * Baseline (b): an empty Probot 14 app through `createNodeMiddleware`, default (info) logging, a generated
 * App key and a fake APP_ID — nothing here talks to the network. Env: PORT, WEBHOOK_SECRET, WEBHOOK_PATH.
 */
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import { createNodeMiddleware, Probot } from "probot";

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const probot = new Probot({ appId: 123456, privateKey, secret: process.env.WEBHOOK_SECRET ?? "" });
const middleware = await createNodeMiddleware(
  (app) => {
    app.on("push", async () => {});
  },
  { probot, webhooksPath: process.env.WEBHOOK_PATH ?? "/api/github/webhooks" },
);

const server = http.createServer(async (req, res) => {
  if (req.url === "/ping") {
    res.writeHead(200).end("PONG");
    return;
  }
  const handled = await middleware(req, res);
  if (!handled) res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
