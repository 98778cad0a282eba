import { describe, expect, it } from "vitest";
import { readServerEnv } from "../../src/app/read-server-env.ts";

const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
const SECRET = "s3cret-s3cret-s3cret";
const noFile = (file: string): string => {
  throw new Error(`no ${file}`);
};
const base = { APP_ID: "123", PRIVATE_KEY: KEY, WEBHOOK_SECRET: SECRET };

describe("readServerEnv", () => {
  it("reads a complete environment with the contract's defaults", () => {
    const result = readServerEnv(base, noFile);
    expect(result.ok && result.env).toMatchObject({
      appId: "123",
      webhookSecrets: [SECRET],
      webhookPath: "/api/github/webhooks",
      port: 3000,
      host: "localhost",
      githubApiUrl: undefined,
      databaseUrl: undefined,
      publicUrl: undefined,
      logLevel: "info",
      stepSandbox: "auto",
    });
  });

  it("asks for the registration flow when no App credentials exist at all", () => {
    expect(readServerEnv({ WEBHOOK_SECRET: SECRET }, noFile)).toMatchObject({ ok: false, setup: true });
  });

  it.each([
    [{ WEBHOOK_SECRET: undefined }, "WEBHOOK_SECRET: required; deploy-bot never accepts unsigned webhooks"],
    [
      { WEBHOOK_SECRET: "development" },
      'WEBHOOK_SECRET: "development" is Probot\'s placeholder, set the secret of your GitHub App',
    ],
    [{ WEBHOOK_SECRET: "short" }, "WEBHOOK_SECRET: at least 16 characters"],
    [{ WEBHOOK_SECRET_PREVIOUS: "old" }, "WEBHOOK_SECRET_PREVIOUS: at least 16 characters"],
    [{ APP_ID: "abc" }, "APP_ID: required, the numeric id of the GitHub App"],
    [{ PRIVATE_KEY: "not a key" }, "PRIVATE_KEY: not a PEM private key (nor base64 of one)"],
    [{ PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: "/nope.pem" }, "PRIVATE_KEY_PATH: cannot read /nope.pem"],
    [{ PORT: "99999" }, "PORT: not a port number: 99999"],
    [{ WEBHOOK_PATH: "hooks" }, "WEBHOOK_PATH: must start with /"],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL: must be an http(s) URL"],
    [{ DASHBOARD_TOKEN: "tiny" }, "DASHBOARD_TOKEN: at least 16 characters"],
    [{ METRICS_TOKEN: "tiny" }, "METRICS_TOKEN: 16 to 512 printable characters, no spaces"],
    [{ METRICS_TOKEN: "has a space in it 0123" }, "METRICS_TOKEN: 16 to 512 printable characters, no spaces"],
    [{ METRICS_TOKEN: "x".repeat(513) }, "METRICS_TOKEN: 16 to 512 printable characters, no spaces"],
    [{ STEP_SANDBOX: "maybe" }, 'STEP_SANDBOX: auto, required or off, not "maybe"'],
    [{ SHUTDOWN_DRAIN: "ten seconds" }, 'SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not "ten seconds"'],
    [{ SHUTDOWN_DRAIN: "-5s" }, 'SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not "-5s"'],
    [{ SHUTDOWN_DRAIN: "5m1s" }, 'SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not "5m1s"'],
    [
      { SHUTDOWN_DRAIN: "9".repeat(400) },
      `SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not "${"9".repeat(400)}"`,
    ],
  ])("refuses %o", (override, message) => {
    const result = readServerEnv({ ...base, ...override }, noFile);
    expect(result.ok).toBe(false);
    expect(!result.ok && !result.setup && result.errors).toContain(message);
  });

  it("reads METRICS_TOKEN (unset or empty = open)", () => {
    const token = "metrics-token-0123456789";
    expect(readServerEnv({ ...base, METRICS_TOKEN: token }, noFile)).toMatchObject({
      ok: true,
      env: { metricsToken: token },
    });
    expect(readServerEnv({ ...base, METRICS_TOKEN: "" }, noFile)).toMatchObject({
      env: { metricsToken: undefined },
    });
    expect(readServerEnv(base, noFile)).toMatchObject({ env: { metricsToken: undefined } });
  });

  it.each([
    [undefined, 0],
    ["", 0],
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["5m", 300_000],
  ])("reads SHUTDOWN_DRAIN %o as %i ms", (value, ms) => {
    expect(readServerEnv({ ...base, SHUTDOWN_DRAIN: value }, noFile)).toMatchObject({
      ok: true,
      env: { shutdownDrainMs: ms },
    });
  });

  it("reads STEP_SANDBOX", () => {
    for (const mode of ["auto", "required", "off"])
      expect(readServerEnv({ ...base, STEP_SANDBOX: mode }, noFile)).toMatchObject({
        env: { stepSandbox: mode },
      });
  });

  it("does not need a webhook secret for a worker", () => {
    expect(readServerEnv({ ...base, WEBHOOK_SECRET: undefined }, noFile, false).ok).toBe(true);
  });

  it("accepts the previous secret during a rotation, current first", () => {
    const result = readServerEnv({ ...base, WEBHOOK_SECRET_PREVIOUS: "previous-secret-123" }, noFile);
    expect(result.ok && result.env.webhookSecrets).toEqual([SECRET, "previous-secret-123"]);
  });

  it("decodes a base64 key, reads PRIVATE_KEY_PATH and builds the GHES API URL", () => {
    const result = readServerEnv(
      {
        ...base,
        PRIVATE_KEY: undefined,
        PRIVATE_KEY_PATH: "/key.pem",
        GHE_HOST: "ghe.example.com",
        GHE_PROTOCOL: "http",
        PUBLIC_URL: "https://bot.example.com/",
      },
      (file) => (file === "/key.pem" ? Buffer.from(KEY).toString("base64") : noFile(file)),
    );
    expect(result.ok && result.env).toMatchObject({
      privateKey: KEY,
      githubApiUrl: "http://ghe.example.com/api/v3",
      publicUrl: "https://bot.example.com",
    });
  });
});
