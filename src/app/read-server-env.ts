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
  /** `CATCH_UP` / `CATCH_UP_INTERVAL`: recover missed deliveries at start-up and this often; undefined = off. */
  readonly catchUp?: { readonly intervalMs: number } | undefined;
  /** GitHub's web host (login pages): `https://github.com` or `<GHE_PROTOCOL>://<GHE_HOST>`. */
  readonly githubWebUrl: string;
  /** GitHub login for the dashboard and run pages; undefined when `GITHUB_CLIENT_ID` is unset. */
  readonly login: GitHubLogin | undefined;
}

/** `GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`, `SESSION_SECRET`: the App's OAuth web flow. */
export interface GitHubLogin {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly sessionSecret: string;
}

/** A session key shorter than this is refused (it seals the session cookies with AES-256-GCM). */
const MIN_SESSION_SECRET_LENGTH = 32;

/** A shorter `CATCH_UP_INTERVAL` would spend the App's API rate limit on listing deliveries. */
const MIN_CATCH_UP_INTERVAL_MS = 10_000;
/** Timers overflow past 2^31 ms (they would then fire at once); a day is plenty. */
const MAX_CATCH_UP_INTERVAL_MS = 24 * 60 * 60 * 1000;

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

  const login = readGitHubLogin(env, publicUrl, errors);

  const shutdownDrainMs = parseShutdownDrain(env.SHUTDOWN_DRAIN);
  if (shutdownDrainMs === undefined)
    errors.push(`SHUTDOWN_DRAIN: a duration up to 5m (e.g. 10s), not ${JSON.stringify(env.SHUTDOWN_DRAIN)}`);

  const stepSandbox = parseSandboxMode(env.STEP_SANDBOX);
  if (!stepSandbox)
    errors.push(`STEP_SANDBOX: auto, required or off, not ${JSON.stringify(env.STEP_SANDBOX)}`);

  const catchUp = readCatchUp(env, errors);

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
      catchUp,
      githubWebUrl: gheHost ? `${gheProtocol}://${gheHost}` : "https://github.com",
      login,
    },
  };
}

/** GitHub login is all or nothing: a client id without its secret or a session key refuses to start. */
function readGitHubLogin(
  env: NodeJS.ProcessEnv,
  publicUrl: string | undefined,
  errors: string[],
): GitHubLogin | undefined {
  const clientId = env.GITHUB_CLIENT_ID?.trim();
  const clientSecret = env.GITHUB_CLIENT_SECRET?.trim();
  const sessionSecret = env.SESSION_SECRET;
  if (!clientId) {
    if (clientSecret) errors.push("GITHUB_CLIENT_SECRET: set without GITHUB_CLIENT_ID");
    return undefined;
  }
  const before = errors.length;
  if (!/^[\w.-]{1,100}$/.test(clientId)) errors.push("GITHUB_CLIENT_ID: not an OAuth client id");
  if (!clientSecret) errors.push("GITHUB_CLIENT_SECRET: required when GITHUB_CLIENT_ID is set");
  if (!sessionSecret) errors.push("SESSION_SECRET: required when GITHUB_CLIENT_ID is set");
  else if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH)
    errors.push(`SESSION_SECRET: at least ${MIN_SESSION_SECRET_LENGTH} characters`);
  if (!publicUrl)
    errors.push(
      "PUBLIC_URL: required when GITHUB_CLIENT_ID is set (the callback is <PUBLIC_URL>/auth/callback)",
    );
  if (errors.length > before || !clientSecret || !sessionSecret) return undefined;
  return { clientId, clientSecret, sessionSecret };
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

/** `CATCH_UP` (`on` | `off`, default on) and `CATCH_UP_INTERVAL` (a duration, default 5m, at least 10s). */
function readCatchUp(env: NodeJS.ProcessEnv, errors: string[]): ServerEnv["catchUp"] {
  const mode = env.CATCH_UP?.trim() || "on";
  if (mode !== "on" && mode !== "off") {
    errors.push(`CATCH_UP: on or off, not ${JSON.stringify(env.CATCH_UP)}`);
    return undefined;
  }
  const text = env.CATCH_UP_INTERVAL?.trim() || "5m";
  let intervalMs: number;
  try {
    intervalMs = parseDuration(text);
  } catch {
    errors.push(
      `CATCH_UP_INTERVAL: a duration such as 30s, 5m or 1h, not ${JSON.stringify(text.slice(0, 40))}`,
    );
    return undefined;
  }
  if (intervalMs < MIN_CATCH_UP_INTERVAL_MS || intervalMs > MAX_CATCH_UP_INTERVAL_MS) {
    errors.push("CATCH_UP_INTERVAL: at least 10s and at most 24h");
    return undefined;
  }
  return mode === "on" ? { intervalMs } : undefined;
}
