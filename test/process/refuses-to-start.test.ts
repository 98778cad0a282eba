/** Process suite: `npm start` refuses to start, with one plain line, when it cannot run safely. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, spawnBot } from "./bot-process.ts";
import { APP_ID, appKeyPair } from "./scenario.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "deploy-bot-process-refuse-"));
  await writeFile(
    path.join(dir, "deploy.config.yaml"),
    "version: 1\npipelines:\n  test:\n    steps:\n      - name: t\n        run: 'true'\nrules: []\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const baseEnv = async () => ({
  APP_ID,
  PRIVATE_KEY: appKeyPair().privateKey,
  HOST: "127.0.0.1",
  PORT: String(await freePort()),
  DEPLOY_CONFIG: path.join(dir, "deploy.config.yaml"),
  DATA_DIR: path.join(dir, "data"),
});

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** A Node binary older than 22 on this machine (the system's), if there is one. */
function oldNode(): { bin: string; version: string } | undefined {
  const candidates = ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"];
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    try {
      const version = execFileSync(bin, ["-v"], { encoding: "utf8" }).trim();
      if (Number(/^v(\d+)\./.exec(version)?.[1]) < 22) return { bin, version };
    } catch {
      // Not runnable.
    }
  }
  return undefined;
}

describe("npm start refuses to start", () => {
  it("without WEBHOOK_SECRET: exit 1, the reason in one line, nothing listening", async () => {
    const env = await baseEnv();
    const bot = spawnBot({ env });
    const exit = await Promise.race([
      bot.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running:\n${bot.output()}`)), 20_000),
      ),
    ]).finally(() => bot.stop(1000));
    expect(exit.code, bot.output()).toBe(1);
    const lines = bot.stderr().trim().split("\n");
    expect(lines).toContain(
      "deploy-bot: WEBHOOK_SECRET: required; deploy-bot never accepts unsigned webhooks",
    );
    // Plain lines only: no stack trace, no npm error block.
    for (const line of lines) expect(line).toMatch(/^deploy-bot: /);
    expect(await listening(Number(env.PORT))).toBe(false);
    expect(existsSync(env.DATA_DIR)).toBe(false);
  });

  it("with a notification naming a variable that is not set: exit 1, one line naming it", async () => {
    const config = path.join(dir, "notify.config.yaml");
    await writeFile(
      config,
      "version: 1\npipelines:\n  test:\n    steps:\n      - name: t\n        run: 'true'\nnotifications:\n  - name: team-chat\n    slack: SLACK_WEBHOOK_URL\n",
    );
    const env = {
      ...(await baseEnv()),
      DEPLOY_CONFIG: config,
      WEBHOOK_SECRET: "a-webhook-secret-0123456789",
    };
    const bot = spawnBot({ env });
    const exit = await Promise.race([
      bot.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running:\n${bot.output()}`)), 20_000),
      ),
    ]).finally(() => bot.stop(1000));
    expect(exit.code, bot.output()).toBe(1);
    const lines = bot.stderr().trim().split("\n");
    expect(lines).toEqual([
      "deploy-bot: notifications[0] (team-chat): slack: SLACK_WEBHOOK_URL is not set in the server's environment",
      "deploy-bot: refusing to start (see README, 'Notifications')",
    ]);
    expect(await listening(Number(env.PORT))).toBe(false);
  });

  const old = oldNode();
  it.skipIf(old === undefined)(
    `on an old Node (${old?.version ?? "none found: no Node < 22 in /usr/bin, /usr/local/bin, /bin"}) first on PATH: one line naming the Node needed, exit 1`,
    async () => {
      const bin = old?.bin as string;
      const bot = spawnBot({
        env: { ...(await baseEnv()), WEBHOOK_SECRET: "a-webhook-secret-0123456789" },
        pathFirst: [path.dirname(bin)],
      });
      const exit = await bot.exited;
      expect(exit.code, bot.output()).toBe(1);
      expect(bot.stderr().trim()).toBe(
        `deploy-bot needs Node.js 24 LTS (or 22.20+), this is ${old?.version}: install it from https://nodejs.org or with \`nvm install 24\`.`,
      );
    },
  );
});
