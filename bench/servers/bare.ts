/**
 * Baseline (a): the limit — bare `node:http`, HMAC over the raw bytes, `JSON.parse`, 202. Nothing else.
 * Env: PORT, WEBHOOK_SECRET, WEBHOOK_PATH.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";

const secret = process.env.WEBHOOK_SECRET ?? "";
const path = process.env.WEBHOOK_PATH ?? "/api/github/webhooks";

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== path) {
    res.writeHead(req.url === "/ping" ? 200 : 404).end(req.url === "/ping" ? "PONG" : "");
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const given = Buffer.from(
      String(req.headers["x-hub-signature-256"] ?? "").replace(/^sha256=/, ""),
      "hex",
    );
    const expected = createHmac("sha256", secret).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end("bad signature");
      return;
    }
    try {
      JSON.parse(body.toString("utf8"));
    } catch {
      res.writeHead(400).end("bad json");
      return;
    }
    res.writeHead(202).end("accepted");
  });
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
