/**
 * The composition root: builds every part from the environment and the config and wires them together.
 * No decisions live here — the flow is in `src/flow/` (route-delivery, accept-delivery, approve-fork, execute-run).
 * `role: "server"` is `npm start` (webhooks + run pages + a worker); `role: "worker"` only executes runs.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { appDeliveriesClient, routeRecovered } from "../catch-up/route-recovered.ts";
import { startCatchUp } from "../catch-up/start-catch-up.ts";
import type { Config } from "../config/schema.ts";
import { DEPLOYMENT_TOPIC, enqueueDeployments } from "../deploy/enqueue-deployments.ts";
import { createDeploymentHandler } from "../deploy/sync-deployment.ts";
import type { Delivery, DeliveryResponse } from "../events/delivery.ts";
import type { StepSandbox } from "../exec/sandbox.ts";
import { createWorkspaces } from "../exec/workspace.ts";
import type { ApprovalOctokit } from "../flow/approve-fork.ts";
import { COMMAND_FEEDBACK_TOPIC, commandFeedbackHandler } from "../flow/command-feedback.ts";
import { executeRun } from "../flow/execute-run.ts";
import { routeDelivery } from "../flow/route-delivery.ts";
import { createAppNotifications } from "../notify/app-notifications.ts";
import { NOTIFICATION_TOPIC } from "../notify/notifier.ts";
import { countGitHubRequests } from "../observe/count-github-requests.ts";
import { createMetrics, type Metrics } from "../observe/metrics.ts";
import { createObserveRoutes, firstOf } from "../observe/observe-routes.ts";
import { checkDatabaseAndQueue, countQueuedRuns } from "../observe/stored-state.ts";
import {
  type OutboxDrainer,
  type OutboxDrainerOptions,
  type OutboxHandler,
  startOutboxDrainer,
} from "../outbox/drain-outbox.ts";
import { enqueueOutbox } from "../outbox/outbox.ts";
import { startWorker, type Worker } from "../queue/start-worker.ts";
import { createCommentUpserter } from "../report/comment-upserter.ts";
import { enqueueReports } from "../report/enqueue-reports.ts";
import { createGitHubReporter } from "../report/github-reporter.ts";
import type { OctokitLike } from "../report/octokit-like.ts";
import { withReliableDefaults } from "../report/octokit-options.ts";
import { runPageUrl } from "../report/run-url.ts";
import type { AcceptDeliveryInput } from "../runs/accept-input.ts";
import type { RunRecord } from "../runs/run.ts";
import { createFrontDoor } from "../server/front-door.ts";
import { batchIgnoredDeliveries } from "../store/batch-ignored-deliveries.ts";
import { catchUpState } from "../store/catch-up-state.ts";
import { environmentQueue } from "../store/environment-queue.ts";
import { groupCommit } from "../store/group-commit.ts";
import { openDatabase } from "../store/open-database.ts";
import { allOf } from "../store/run-changes.ts";
import { runDeployments } from "../store/run-deployments.ts";
import { openRunStore, type RunStore } from "../store/run-store.ts";
import { sentCheckRuns } from "../store/sent-check-runs.ts";
import { sentReports } from "../store/sent-reports.ts";
import { createPageRoutes } from "./page-routes.ts";
import type { ServerEnv } from "./read-server-env.ts";
import { hasScheduledRules, startScheduledRules } from "./start-scheduled-rules.ts";
import { createStepGuards } from "./step-guards.ts";

export interface AppOptions {
  readonly role: "server" | "worker";
  readonly env: ServerEnv;
  /** The server's own environment: the source of declared secrets (and nothing else reaches steps). */
  readonly processEnv: NodeJS.ProcessEnv;
  readonly config: Config;
  readonly logger: Logger;
  /** Accept `file://` clone URLs (tests only). */
  readonly allowFileUrls?: boolean;
  /** How long running steps may finish on SIGTERM before they are cancelled. */
  readonly shutdownGraceMs?: number;
  /** Worker tuning, for tests. */
  readonly worker?: {
    readonly pollMs?: number;
    readonly heartbeatMs?: number;
    readonly staleAfterMs?: number;
  };
  /** Outbox tuning, for tests (`src/outbox/drain-outbox.ts`). */
  readonly outbox?: Pick<OutboxDrainerOptions, "pollMs" | "backoff">;
  /** Steps run in this sandbox (decided at start-up from `STEP_SANDBOX`); undefined runs them without. */
  readonly stepSandbox?: StepSandbox | undefined;
  /** Pause between two calls of a catch-up walk (tests shorten it); default 250 ms. */
  readonly catchUpThrottleMs?: number;
}

export interface App {
  /** Base URL the HTTP server listens on (server role). */
  readonly url: string | undefined;
  readonly store: RunStore;
  /** Reports reach GitHub through the outbox; `flush` resolves once every report due now has been tried. */
  readonly reporter: { flush(): Promise<void> };
  /** The Prometheus registry behind `GET /metrics`. */
  readonly metrics: Metrics;
  /** Stops accepting, lets running steps finish up to the grace period, then cancels them and closes. */
  stop(): Promise<void>;
}

export async function startApp(options: AppOptions): Promise<App> {
  const { env, config, logger } = options;

  // Storage and queue: embedded PGlite under DATA_DIR, or PostgreSQL when DATABASE_URL is set.
  const db = await openDatabase(
    env.databaseUrl ? { databaseUrl: env.databaseUrl } : { dataDir: env.dataDir },
  );
  // What must follow a change of runs (reports, Deployments, notifications) is recorded in the change's own
  // transaction, as outbox messages (`src/outbox/`), and delivered by the drainer below for as long as it takes.
  const notifier = createAppNotifications({
    config,
    processEnv: options.processEnv,
    publicUrl: env.publicUrl,
    githubApiUrl: env.githubApiUrl,
    logger: logger.child({ name: "notify" }),
    metrics: { notification: (channel, outcome) => metrics.notification(channel, outcome) },
  });
  const onChange = allOf(
    enqueueReports(enqueueOutbox, { checks: config.settings.checks }),
    enqueueDeployments,
    notifier?.onChange,
  );
  const store = await openRunStore(db, {
    logger: logger.child({ name: "store" }),
    onChange,
    scheduling: hasScheduledRules(config),
  });
  const metrics = createMetrics({ queuedRuns: () => countQueuedRuns(db) });
  let stopping: Promise<void> | undefined;
  // Group commit: deliveries that arrive while one is being recorded share the next transaction.
  const accepting = groupCommit((inputs: readonly AcceptDeliveryInput[]) => store.acceptDeliveries(inputs));
  const ignoredDeliveries = batchIgnoredDeliveries((inputs) => store.recordIgnoredDeliveries(inputs), {
    onError: (error, count) => logger.warn({ err: error, count }, "could not record ignored deliveries"),
  });

  // GitHub: Probot owns App auth and Octokit (with deliberate retry and rate-limit handling).
  const probot = new Probot({
    appId: env.appId,
    privateKey: env.privateKey,
    secret: env.webhookSecrets[0] ?? "unused-by-the-worker-role",
    baseUrl: env.githubApiUrl,
    log: logger.child({ name: "probot" }),
    Octokit: withReliableDefaults(
      ProbotOctokit.plugin(countGitHubRequests(metrics)),
      logger.child({ name: "octokit" }),
    ) as typeof ProbotOctokit,
  });
  const octokitFor = (installationId: number) => probot.auth(installationId);
  /**
   * A token for one checkout: minted through the App's own Octokit, so it goes to the configured API (GitHub
   * Enterprise Server too — the auth strategy's `octokit.auth({ type: "installation" })` would ask
   * api.github.com), and scoped to the one repository with read access to its contents.
   */
  const checkoutToken = async (installationId: number, repo: string): Promise<string> => {
    const appOctokit = await probot.auth();
    const { data } = await appOctokit.request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
      repositories: [repo],
      permissions: { contents: "read" },
    });
    return data.token;
  };
  // One comment upserter for the reporter and command feedback: never a second bot comment on an issue or PR.
  const comments = createCommentUpserter();
  const reporter = createGitHubReporter({
    comments,
    octokitFor,
    runsForDelivery: (id) => store.runsForDelivery(id),
    logTail: (runId, step, lines) => store.logTail(runId, step, lines),
    environmentQueue: (environment) => environmentQueue(db, environment),
    statusContext: config.settings.statusContext,
    publicUrl: env.publicUrl,
    sent: sentReports(db),
    sentCheckRuns: sentCheckRuns(db),
    logger: logger.child({ name: "reporter" }),
  });
  // One handler per outbox topic; every process (server or worker) delivers what any of them recorded.
  const outboxHandlers: Record<string, OutboxHandler> = {
    ...reporter.handlers,
    [DEPLOYMENT_TOPIC]: createDeploymentHandler({
      octokitFor,
      runsForDelivery: (id) => store.runsForDelivery(id),
      deployments: runDeployments(db),
      pipeline: (name) => config.pipelines[name],
      runUrl: (runId) => runPageUrl(env.publicUrl, runId),
      logger: logger.child({ name: "deployments" }),
    }),
    [COMMAND_FEEDBACK_TOPIC]: commandFeedbackHandler({
      octokitFor: async (id) => (await octokitFor(id)) as unknown as OctokitLike,
      runsForDelivery: (id) => store.runsForDelivery(id),
      latestRunsOn: (repo, number) => store.latestRunsOn(repo, number),
      comments,
      runUrl: (id) =>
        env.publicUrl ? `${env.publicUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(id)}` : undefined,
    }),
  };
  if (notifier) outboxHandlers[NOTIFICATION_TOPIC] = notifier.deliver;
  const outbox: OutboxDrainer = await startOutboxDrainer(db, {
    handlers: outboxHandlers,
    exclusive: db.kind === "pglite",
    logger: logger.child({ name: "outbox" }),
    ...options.outbox,
  });
  // What an earlier process left undelivered (a crash, GitHub down) goes out now.
  outbox.wake();
  /** After a commit that changed runs (its reports are in the outbox already): count it, deliver soon. */
  const report = (run: RunRecord) => {
    metrics.runChanged(run);
    outbox.wake();
  };

  // Execution: a mirror per repository and a worktree per run, under DATA_DIR.
  const workspaces = createWorkspaces({
    root: path.join(env.dataDir, "workspaces"),
    allowFileUrls: options.allowFileUrls,
  });
  await workspaces.cleanStale();
  const stepGuards = createStepGuards(db, logger.child({ name: "steps" }));
  const worker: Worker = await startWorker({
    store,
    concurrency: config.settings.concurrency,
    execute: (run, ctx) =>
      executeRun(
        {
          config: () => config,
          workspaces,
          serverEnv: options.processEnv,
          sandbox: options.stepSandbox,
          stepGuard: stepGuards.forRun,
          installationToken: (installationId, repo) => checkoutToken(installationId, repo),
        },
        run,
        ctx,
      ),
    onRunChanged: report,
    logger: logger.child({ name: "worker" }),
    retention: config.settings.retention,
    afterRecovery: stepGuards.killOrphans,
    ...options.worker,
  });

  // Scheduled rules: ticks from the queue engine's cron schedules run through the same accept path.
  const scheduler = await startScheduledRules({
    config,
    store,
    record: (input) => accepting.add(input),
    recordIgnored: (input) => ignoredDeliveries.add(input),
    report,
    github: { app: () => probot.auth(), installation: octokitFor },
    logger: logger.child({ name: "scheduler" }),
    metrics,
  });

  let server: http.Server | undefined;
  let url: string | undefined;
  if (options.role === "server") {
    server = createFrontDoor({
      webhookPath: env.webhookPath,
      secrets: env.webhookSecrets,
      logger: logger.child({ name: "webhooks" }),
      routes: firstOf(
        createObserveRoutes({
          registry: metrics.registry,
          metricsToken: env.metricsToken,
          checkReady: () => checkDatabaseAndQueue(db),
          isStopping: () => stopping !== undefined,
          onError: (route, error) => logger.warn({ route, err: String(error) }, "observability route failed"),
        }),
        createPageRoutes({
          env,
          db,
          store,
          logger: logger.child({ name: "pages" }),
          isStopping: () => stopping !== undefined,
        }),
      ),
      onDelivery: (delivery) => timedDelivery(delivery),
      onRejected: (event) => metrics.delivery(event, "rejected"),
    });
    await new Promise<void>((resolve, reject) => {
      server?.once("error", reject);
      server?.listen(env.port, env.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    url = `http://${host}:${address.port}`;
    logger.info({ url, webhookPath: env.webhookPath }, "deploy-bot is listening");
  }

  // Missed deliveries: walked through the App's deliveries API at start-up and every CATCH_UP_INTERVAL.
  const catchUp =
    options.role === "server" && env.catchUp
      ? startCatchUp({
          client: appDeliveriesClient(() => probot.auth()),
          state: catchUpState(db),
          intervalMs: env.catchUp.intervalMs,
          throttleMs: options.catchUpThrottleMs,
          logger: logger.child({ name: "catch-up" }),
          route: routeRecovered(onDelivery, metrics),
        })
      : undefined;

  /** Answers a verified delivery, counting its outcome and how long GitHub waited. */
  async function timedDelivery(delivery: Delivery): Promise<DeliveryResponse> {
    const started = performance.now();
    try {
      return await onDelivery(delivery);
    } finally {
      metrics.acked((performance.now() - started) / 1000);
    }
  }

  /** Routes a verified delivery (`flow/route-delivery.ts`), counting its outcome. */
  function onDelivery(
    delivery: Delivery,
    count: Metrics["delivery"] = (event, outcome) => metrics.delivery(event, outcome),
  ): Promise<DeliveryResponse> {
    return routeDelivery(
      {
        config: () => config,
        record: (input) => accepting.add(input),
        recordIgnored: (input) => ignoredDeliveries.add(input),
        report,
        approveRuns: (repo, pr, sha) => store.approveRuns(repo, pr, sha),
        approvalOctokitFor: async (id) => (await octokitFor(id)) as unknown as ApprovalOctokit,
        filesOctokitFor: octokitFor,
        commands: {
          octokitFor: async (id) => (await octokitFor(id)) as unknown as OctokitLike,
          store,
          onRecorded: () => outbox.wake(),
        },
        checks: {
          appId: env.appId,
          octokitFor: async (id) => (await octokitFor(id)) as unknown as OctokitLike,
          store,
          onRecorded: () => outbox.wake(),
        },
        logger,
        metrics: { delivery: count },
      },
      delivery,
    );
  }

  return {
    url,
    store,
    reporter: {
      async flush() {
        await outbox.drainOnce();
      },
    },
    metrics,
    stop: () => {
      stopping ??= (async () => {
        // `/readyz` answers 503 from here on; the drain lets a load balancer see it before we stop listening.
        if (server && env.shutdownDrainMs > 0)
          await new Promise((resolve) => setTimeout(resolve, env.shutdownDrainMs));
        if (server) {
          const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
          server.closeIdleConnections();
          await closing;
        }
        await scheduler.stop();
        await catchUp?.stop();
        await worker.stop(options.shutdownGraceMs ?? 30_000);
        await accepting.drain();
        await ignoredDeliveries.flush();
        // Reports due now get a few seconds; whatever is left stays in the outbox for the next start.
        await Promise.race([outbox.drainOnce().catch(() => 0), sleep(STOP_REPORT_MS)]);
        await outbox.stop();
        await store.close();
        await db.close();
      })();
      return stopping;
    },
  };
}

/** How long a stopping server keeps delivering reports that are due. */
const STOP_REPORT_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
