/**
 * The server's environment (README, "Server environment"), read once at start-up into a typed
 * value. Pure: it takes the environment and the file reader, so tests need no process state.
 */
import path from "node:path";
import { parseDuration } from "../config/duration.ts";
import { parseSandboxMode, type SandboxMode } from "../exec/sandbox.ts";

export interface ServerEnv {
  readonly appId: string;
  readonly privateKey: string;
  /** Current secret first, then `WEBHOOK_SECRET_PREVIOUS` while a rotation is under way. */
  readonly webhookSecrets: readonly string[];
  readonly webhookPath: string;
  readonly port: number;
  readonly host: string;
  /** GitHub Enterprise Server API base URL; undefined for github.com. */
  readonly githubApiUrl: string | undefined;
  readonly configFile: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly publicUrl: string | undefined;
  readonly dashboardToken: string | undefined;
  /** `METRICS_TOKEN`: when set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** `SHUTDOWN_DRAIN`: after SIGTERM, how long `/readyz` answers 503 before the server stops listening. */
  readonly shutdownDrainMs: number;
  readonly logLevel: string;
  /** `STEP_SANDBOX`: run steps in Linux namespaces — `auto` when available, `required`, or `off`. */
  readonly stepSandbox: SandboxMode;
}

export type ServerEnvResult =
  | { readonly ok: true; readonly env: ServerEnv }
  /** No App credentials yet: Probot's registration flow should run instead of the server. */
  | { readonly ok: false; readonly setup: true; readonly message: string }
  | { readonly ok: false; readonly setup: false; readonly errors: readonly string[] };

/** Secrets shorter than this are refused: an HMAC key that can be guessed protects nothing. */
const MIN_SECRET_LENGTH = 16;

/** Reads and checks the environment; every problem is reported at once. */
export function readServerEnv(
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => string,
  needsWebhooks = true,
): ServerEnvResult {
  const errors: string[] = [];
  const appId = env.APP_ID?.trim();
  let privateKey = env.PRIVATE_KEY?.trim();
  if (!privateKey && env.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFile(env.PRIVATE_KEY_PATH).trim();
    } catch {
      errors.push(`PRIVATE_KEY_PATH: cannot read ${env.PRIVATE_KEY_PATH}`);
    }
  }
  if (!appId && !privateKey && errors.length === 0) {
    return {
      ok: false,
      setup: true,
      message: "APP_ID and PRIVATE_KEY are not set: starting the GitHub App registration flow (app.yml)",
    };
  }
  if (!appId || !/^\d+$/.test(appId)) errors.push("APP_ID: required, the numeric id of the GitHub App");
  if (!privateKey) errors.push("PRIVATE_KEY or PRIVATE_KEY_PATH: required, the GitHub App's private key");
  else if (!privateKey.includes("-----BEGIN")) {
    // Probot accepts a base64-encoded key for platforms without multi-line variables.
    const decoded = Buffer.from(privateKey, "base64").toString("utf8");
    if (decoded.includes("-----BEGIN")) privateKey = decoded;
    else errors.push("PRIVATE_KEY: not a PEM private key (nor base64 of one)");
  }

  const webhookSecrets = [env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS].filter(
    (secret): secret is string => typeof secret === "string" && secret.length > 0,
  );
  if (needsWebhooks) {
    if (!env.WEBHOOK_SECRET) {
      errors.push("WEBHOOK_SECRET: required; deploy-bot never accepts unsigned webhooks");
    } else if (env.WEBHOOK_SECRET === "development") {
      errors.push(
        'WEBHOOK_SECRET: "development" is Probot\'s placeholder, set the secret of your GitHub App',
      );
    }
    for (const [name, value] of [
      ["WEBHOOK_SECRET", env.WEBHOOK_SECRET],
      ["WEBHOOK_SECRET_PREVIOUS", env.WEBHOOK_SECRET_PREVIOUS],
    ] as const) {
      if (value && value.length < MIN_SECRET_LENGTH) {
        errors.push(`${name}: at least ${MIN_SECRET_LENGTH} characters`);
      }
    }
  }

  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    errors.push(`PORT: not a port number: ${env.PORT}`);
  const webhookPath = env.WEBHOOK_PATH ?? "/api/github/webhooks";
  if (!webhookPath.startsWith("/")) errors.push("WEBHOOK_PATH: must start with /");

  let publicUrl = env.PUBLIC_URL?.trim() || undefined;
  if (publicUrl) {
    if (!/^https?:\/\/[^\s/]+/.test(publicUrl)) errors.push("PUBLIC_URL: must be an http(s) URL");
    publicUrl = publicUrl.replace(/\/+$/, "");
  }
  const gheHost = env.GHE_HOST?.trim();
  const gheProtocol = env.GHE_PROTOCOL?.trim() || "https";
  if (gheHost && !["http", "https"].includes(gheProtocol)) errors.push("GHE_PROTOCOL: http or https");
  if (env.DASHBOARD_TOKEN !== undefined && env.DASHBOARD_TOKEN.length < MIN_SECRET_LENGTH) {
    errors.push(`DASHBOARD_TOKEN: at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (env.METRICS_TOKEN && !/^[\x21-\x7e]{16,512}$/.test(env.METRICS_TOKEN)) {
    errors.push("METRICS_TOKEN: 16 to 512 printable characters, no spaces");
  }

  const shutdownDrainMs = parseShutdownDrain(env.SHUTDOWN_DRAIN);
  if (shutdownDrainMs === undefined)
    errors.push(`SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not ${JSON.stringify(env.SHUTDOWN_DRAIN)}`);

  const stepSandbox = parseSandboxMode(env.STEP_SANDBOX);
  if (!stepSandbox)
    errors.push(`STEP_SANDBOX: auto, required or off, not ${JSON.stringify(env.STEP_SANDBOX)}`);

  if (errors.length > 0 || !appId || !privateKey || !stepSandbox || shutdownDrainMs === undefined)
    return { ok: false, setup: false, errors };
  return {
    ok: true,
    env: {
      appId,
      privateKey,
      webhookSecrets,
      webhookPath,
      port,
      host: env.HOST || "localhost",
      githubApiUrl: gheHost ? `${gheProtocol}://${gheHost}/api/v3` : undefined,
      configFile: path.resolve(env.DEPLOY_CONFIG || "deploy.config.yaml"),
      dataDir: path.resolve(env.DATA_DIR || "data"),
      databaseUrl: env.DATABASE_URL || undefined,
      publicUrl,
      dashboardToken: env.DASHBOARD_TOKEN || undefined,
      metricsToken: env.METRICS_TOKEN || undefined,
      shutdownDrainMs,
      logLevel: env.LOG_LEVEL || "info",
      stepSandbox,
    },
  };
}

const MAX_SHUTDOWN_DRAIN_MS = 5 * 60 * 1000;

/** Unset or empty: no drain; otherwise a config duration (`10s`, `1m`) of at most 5 minutes. */
function parseShutdownDrain(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return 0;
  try {
    const ms = parseDuration(value.trim());
    return ms <= MAX_SHUTDOWN_DRAIN_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}
