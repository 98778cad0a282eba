/**
 * Where a verified delivery goes: fork approvals to `approve-fork`, comment commands to `run-command`, Checks
 * tab requests to `run-check-request`, pipeline events to `accept-delivery`, anything else a polite "not for
 * me"; and what each outcome answers GitHub.
 */

import type { Delivery, DeliveryResponse } from "../events/delivery.ts";
import type { ChangedFiles, PullRequestEvent } from "../events/deploy-event.ts";
import { isIgnored } from "../events/deploy-event.ts";
import { normaliseCheckRequest } from "../events/normalise-check-request.ts";
import { normaliseComment } from "../events/normalise-comment.ts";
import { PIPELINE_EVENTS } from "../events/webhook-events.ts";
import { listPullRequestFiles, type PullRequestFilesClient } from "../github/list-pull-request-files.ts";
import type { DeliveryMetrics } from "../observe/metrics.ts";
import type { Logger } from "../store/logger.ts";
import { type AcceptDeps, type AcceptResult, acceptDelivery } from "./accept-delivery.ts";
import { type ApproveDeps, approveFork, parseApprovalRequest } from "./approve-fork.ts";
import { type CheckRequestDeps, runCheckRequest } from "./run-check-request.ts";
import { type CommandDeps, type CommandOutcome, runCommand } from "./run-command.ts";

/** Listing a PR's files happens inside the webhook request; past this, the path filter is not applied. */
const LIST_FILES_TIMEOUT_MS = 4000;

export interface RouteDeps extends Omit<AcceptDeps, "listChangedFiles">, Pick<ApproveDeps, "approveRuns"> {
  readonly approvalOctokitFor: ApproveDeps["octokitFor"];
  readonly filesOctokitFor: (installationId: number) => Promise<PullRequestFilesClient>;
  readonly logger: Pick<Logger, "info" | "warn">;
  /** Counts each delivery's outcome (`deploybot_webhook_deliveries_total`). */
  readonly metrics: Pick<DeliveryMetrics, "delivery">;
  /** Default 4 s. */
  readonly listFilesTimeoutMs?: number;
  /** `/deploy-bot` commands in comments; without them, comments other than approvals are ignored. */
  readonly commands?: Pick<CommandDeps, "octokitFor" | "store" | "onRecorded">;
  /** Re-runs and buttons from the Checks tab, for the check runs of App `appId`; without them, ignored. */
  readonly checks?: Pick<CheckRequestDeps, "octokitFor" | "store" | "onRecorded"> & {
    readonly appId: string;
  };
}

export async function routeDelivery(deps: RouteDeps, delivery: Delivery): Promise<DeliveryResponse> {
  const { logger, metrics } = deps;
  const approval = parseApprovalRequest(delivery.name, delivery.payload);
  if (approval) {
    const result = await approveFork(
      { octokitFor: deps.approvalOctokitFor, approveRuns: deps.approveRuns, report: deps.report },
      approval,
    );
    logger.info({ delivery: delivery.id, ...result, runs: undefined }, `fork approval ${result.outcome}`);
    if (result.outcome === "refused") {
      metrics.delivery(delivery.name, "ignored");
      return { status: 202, body: `approval refused: ${result.reason}\n` };
    }
    if (delivery.name === "issue_comment") {
      metrics.delivery(delivery.name, "accepted");
      return { status: 202, body: `approved ${result.runs.length} runs\n` };
    }
  }
  if (delivery.name === "issue_comment" && deps.commands) return routeCommand(deps, deps.commands, delivery);
  if ((delivery.name === "check_run" || delivery.name === "check_suite") && deps.checks)
    return routeCheckRequest(deps, deps.checks, delivery);
  if (!PIPELINE_EVENTS.has(delivery.name)) {
    metrics.delivery(delivery.name, "ignored");
    return { status: 202, body: `ignored: ${delivery.name} events run nothing\n` };
  }
  const result = await acceptDelivery(
    {
      config: deps.config,
      record: deps.record,
      recordIgnored: deps.recordIgnored,
      report: deps.report,
      listChangedFiles: (event) => listChangedFilesWithin(deps, event),
    },
    delivery,
  );
  logger.info(
    { delivery: delivery.id, event: delivery.name, ...summary(result) },
    `delivery ${result.outcome}`,
  );
  metrics.delivery(delivery.name, result.outcome);
  if (result.outcome === "accepted")
    return { status: 202, body: `accepted: ${result.runs.length} runs queued\n` };
  if (result.outcome === "duplicate") return { status: 200, body: "duplicate delivery: already accepted\n" };
  return { status: 202, body: `ignored: ${result.reason}\n` };
}

/** A comment: a `/deploy-bot` command is carried out (`run-command.ts`); anything else is ignored, saying why. */
async function routeCommand(
  deps: RouteDeps,
  commands: NonNullable<RouteDeps["commands"]>,
  delivery: Delivery,
): Promise<DeliveryResponse> {
  const { logger, metrics } = deps;
  const command = normaliseComment(delivery.id, delivery.payload);
  if (isIgnored(command)) {
    metrics.delivery(delivery.name, "ignored");
    return { status: 202, body: `ignored: ${command.reason}\n` };
  }
  const result = await runCommand({ ...commands, config: deps.config, report: deps.report, logger }, command);
  return answerRequest(deps, delivery, "command", { command: command.text, sender: command.sender }, result);
}

/** A Checks tab request: carried out (`run-check-request.ts`); every other check delivery is ignored unread. */
async function routeCheckRequest(
  deps: RouteDeps,
  checks: NonNullable<RouteDeps["checks"]>,
  delivery: Delivery,
): Promise<DeliveryResponse> {
  const { logger, metrics } = deps;
  const request = normaliseCheckRequest(delivery.name, delivery.id, delivery.payload, checks.appId);
  if (isIgnored(request)) {
    metrics.delivery(delivery.name, "ignored");
    return { status: 202, body: `ignored: ${request.reason}\n` };
  }
  const result = await runCheckRequest(
    { ...checks, config: deps.config, approveRuns: deps.approveRuns, report: deps.report, logger },
    request,
  );
  const fields = {
    request: request.kind,
    ...(request.kind === "action" ? { button: request.identifier } : {}),
    sender: request.sender,
    sha: request.sha,
  };
  return answerRequest(deps, delivery, "check request", fields, result);
}

/** What a carried-out request (a comment command, a Checks tab click) answers GitHub, logged and counted. */
function answerRequest(
  deps: Pick<RouteDeps, "logger" | "metrics">,
  delivery: Delivery,
  what: "command" | "check request",
  fields: Record<string, unknown>,
  result: CommandOutcome,
): DeliveryResponse {
  deps.logger.info(
    {
      delivery: delivery.id,
      ...fields,
      outcome: result.outcome,
      ...(result.outcome === "refused" ? { reason: result.reason } : {}),
      ...(result.outcome === "accepted"
        ? { runs: result.runs.map((run) => `${run.pipeline}:${run.id}`) }
        : {}),
    },
    `${what} ${result.outcome}`,
  );
  if (result.outcome === "duplicate") {
    deps.metrics.delivery(delivery.name, "duplicate");
    return { status: 200, body: "duplicate delivery: already handled\n" };
  }
  if (result.outcome === "refused") {
    deps.metrics.delivery(delivery.name, "ignored");
    return { status: 202, body: `${what} refused: ${result.reason}\n` };
  }
  deps.metrics.delivery(delivery.name, "accepted");
  return { status: 202, body: `${what} accepted: ${result.summary}\n` };
}

/**
 * A pull request's files within the time limit, or "unknown" with the reason. A listing that runs out of
 * time is aborted, so an abandoned request does not keep a connection and a page loop going.
 */
export async function listChangedFilesWithin(
  deps: Pick<RouteDeps, "filesOctokitFor" | "logger" | "listFilesTimeoutMs">,
  event: PullRequestEvent,
): Promise<ChangedFiles> {
  if (event.installationId === undefined)
    return { known: false, reason: "no installation to list files with" };
  const octokit = await deps.filesOctokitFor(event.installationId);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error("timed out");
      controller.abort(error);
      reject(error);
    }, deps.listFilesTimeoutMs ?? LIST_FILES_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([
      listPullRequestFiles(
        octokit,
        { owner: event.repo.owner, repo: event.repo.name, pullNumber: event.prNumber },
        controller.signal,
      ),
      timeout,
    ]);
  } catch (error) {
    deps.logger.warn(
      { delivery: event.deliveryId, err: String(error) },
      "could not list the pull request's files",
    );
    return { known: false, reason: `listing the pull request's files failed: ${String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

function summary(result: AcceptResult): Record<string, unknown> {
  if (result.outcome === "accepted") return { runs: result.runs.map((run) => `${run.pipeline}:${run.id}`) };
  if (result.outcome === "ignored") return { reason: result.reason };
  return {};
}
