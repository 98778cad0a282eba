/**
 * Start-up shared by `npm start` (role server) and `deploy-bot worker`: read the environment, refuse to
 * start when something is missing (never a silent default secret), load the config, start, and shut down
 * cleanly on SIGTERM/SIGINT.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import { serverHiddenPaths, setUpStepSandbox } from "../exec/sandbox.ts";
import { resolveNotificationTargets } from "../notify/notification-targets.ts";
import { compileEmbeddedDatabaseLean } from "../store/open-database.ts";
import { readServerEnv } from "./read-server-env.ts";
import { startApp } from "./start-app.ts";

export async function boot(role: "server" | "worker"): Promise<number> {
  // Probot's registration flow writes the App's credentials into .env; read it as Probot would.
  const envFile = existsSync(".env") ? path.resolve(".env") : undefined;
  if (envFile) process.loadEnvFile(envFile);

  const read = readServerEnv(process.env, (file) => readFileSync(file, "utf8"), role === "server");
  if (!read.ok && read.setup) {
    if (role === "worker") {
      console.error("deploy-bot worker: APP_ID and PRIVATE_KEY are required");
      return 1;
    }
    console.error(`deploy-bot: ${read.message}`);
    const { run } = await import("probot");
    await run(() => {});
    return new Promise<number>(() => {}); // Probot's setup server runs until the user stops it.
  }
  if (!read.ok) {
    for (const error of read.errors) console.error(`deploy-bot: ${error}`);
    console.error("deploy-bot: refusing to start (see README, 'Configure')");
    return 1;
  }
  const { env } = read;
  if (role === "worker" && !env.databaseUrl) {
    console.error("deploy-bot worker: DATABASE_URL is required (the embedded store belongs to one process)");
    return 1;
  }

  const loaded = await loadConfig(env.configFile);
  if (!loaded.ok) {
    for (const error of loaded.errors) console.error(formatConfigError(error));
    console.error(`deploy-bot: ${env.configFile} is not valid, refusing to start`);
    return 1;
  }

  // A notification naming a variable that is not set would never arrive: refuse to start instead.
  const notificationTargets = resolveNotificationTargets(loaded.config, process.env);
  if (!notificationTargets.ok) {
    for (const error of notificationTargets.errors) console.error(`deploy-bot: ${error}`);
    console.error("deploy-bot: refusing to start (see README, 'Notifications')");
    return 1;
  }

  const logger = pino({ level: env.logLevel, base: { role } });
  if (!env.databaseUrl) compileEmbeddedDatabaseLean();
  const hiddenPaths = serverHiddenPaths({
    dataDir: env.dataDir,
    privateKeyPath: process.env.PRIVATE_KEY_PATH,
    envFile,
  });
  const sandbox = await setUpStepSandbox(env.stepSandbox, hiddenPaths);
  if (!sandbox.ok) {
    console.error(`deploy-bot: ${sandbox.error}`);
    console.error("deploy-bot: refusing to start (see README, 'Security')");
    return 1;
  }
  if (sandbox.warning) logger.warn({ stepSandbox: env.stepSandbox }, sandbox.warning);
  else if (sandbox.sandbox)
    logger.info({ hidden: hiddenPaths.map((hidden) => hidden.path) }, "steps run in the step sandbox");
  const app = await startApp({
    role,
    env,
    processEnv: process.env,
    config: loaded.config,
    logger,
    stepSandbox: sandbox.sandbox,
  });

  return new Promise<number>((resolve) => {
    let signals = 0;
    const shutdown = (signal: string) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, "second signal: exiting now");
        resolve(1);
        return;
      }
      logger.info({ signal }, "stopping: no new deliveries; running steps get a grace period");
      app.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, "error while stopping");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
  });
}
