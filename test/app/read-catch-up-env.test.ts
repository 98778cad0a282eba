import { describe, expect, it } from "vitest";
import { readServerEnv } from "../../src/app/read-server-env.ts";

const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
const base = { APP_ID: "123", PRIVATE_KEY: KEY, WEBHOOK_SECRET: "s3cret-s3cret-s3cret" };
const noFile = (file: string): string => {
  throw new Error(`no ${file}`);
};

describe("CATCH_UP and CATCH_UP_INTERVAL", () => {
  it.each([
    [{}, { intervalMs: 300_000 }],
    [{ CATCH_UP: "on" }, { intervalMs: 300_000 }],
    [{ CATCH_UP: "" }, { intervalMs: 300_000 }],
    [{ CATCH_UP: "on", CATCH_UP_INTERVAL: "30s" }, { intervalMs: 30_000 }],
    [{ CATCH_UP_INTERVAL: "1h30m" }, { intervalMs: 5_400_000 }],
    [{ CATCH_UP_INTERVAL: "24h" }, { intervalMs: 86_400_000 }],
    [{ CATCH_UP: "off" }, undefined],
    [{ CATCH_UP: "off", CATCH_UP_INTERVAL: "1m" }, undefined],
  ])("reads %o", (override, catchUp) => {
    expect(readServerEnv({ ...base, ...override }, noFile)).toEqual(
      expect.objectContaining({ ok: true, env: expect.objectContaining({ catchUp }) }),
    );
  });

  it.each([
    [{ CATCH_UP: "yes" }, 'CATCH_UP: on or off, not "yes"'],
    [{ CATCH_UP: "OFF; rm -rf /" }, 'CATCH_UP: on or off, not "OFF; rm -rf /"'],
    [{ CATCH_UP_INTERVAL: "5" }, 'CATCH_UP_INTERVAL: a duration such as 30s, 5m or 1h, not "5"'],
    [{ CATCH_UP_INTERVAL: "-5m" }, 'CATCH_UP_INTERVAL: a duration such as 30s, 5m or 1h, not "-5m"'],
    [{ CATCH_UP_INTERVAL: "off" }, 'CATCH_UP_INTERVAL: a duration such as 30s, 5m or 1h, not "off"'],
    [
      { CATCH_UP_INTERVAL: "x".repeat(10_000) },
      `CATCH_UP_INTERVAL: a duration such as 30s, 5m or 1h, not "${"x".repeat(40)}"`,
    ],
    [{ CATCH_UP_INTERVAL: "0s" }, "CATCH_UP_INTERVAL: at least 10s and at most 24h"],
    [{ CATCH_UP_INTERVAL: "9s" }, "CATCH_UP_INTERVAL: at least 10s and at most 24h"],
    [{ CATCH_UP_INTERVAL: "999999999h" }, "CATCH_UP_INTERVAL: at least 10s and at most 24h"],
    [{ CATCH_UP: "off", CATCH_UP_INTERVAL: "1s" }, "CATCH_UP_INTERVAL: at least 10s and at most 24h"],
  ])("refuses %o", (override, message) => {
    const result = readServerEnv({ ...base, ...override }, noFile);
    expect(result.ok).toBe(false);
    expect(!result.ok && !result.setup && result.errors).toContain(message);
  });
});
