/**
 * The Prometheus registry: the contract's `deploybot_*` metrics plus the process defaults. The rest of the
 * app sees only the narrow recorders below (`DeliveryMetrics`, `RunMetrics`, ...), never prom-client.
 * Labels are low-cardinality by construction: event names outside a fixed list become `other`, and no label
 * is ever a SHA, run id, delivery id, PR number, branch or user.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { HANDLED_EVENTS } from "../events/webhook-events.ts";
import { FINAL_RUN_STATES, type RunRecord } from "../runs/run.ts";

export type DeliveryOutcome = "accepted" | "ignored" | "duplicate" | "rejected" | "recovered";

export interface DeliveryMetrics {
  /** `event` is the raw `X-GitHub-Event` (or undefined when it was missing); it is bucketed here. */
  delivery(event: string | undefined, outcome: DeliveryOutcome): void;
  /** Seconds from a verified delivery to the answer GitHub gets. */
  acked(seconds: number): void;
}

export interface RunMetrics {
  /** Every run change the reporter sees; counts each run once, when it reaches a final state. */
  runChanged(run: RunRecord): void;
}

export interface GitHubRequestMetrics {
  /** An HTTP status, or `network` when no response came back. */
  githubRequest(status: number | "network"): void;
}

/** Stored state read at scrape time. */
export interface StoredState {
  queuedRuns(): Promise<number>;
}

export interface NotificationMetrics {
  /** One attempt to send a notification: `sent`, `retry` (will be tried again) or `failed` (never). */
  notification(channel: "slack" | "webhook", outcome: "sent" | "retry" | "failed"): void;
}

export interface Metrics extends DeliveryMetrics, RunMetrics, GitHubRequestMetrics, NotificationMetrics {
  readonly registry: Registry;
}

/** Run ids already counted as finished; bounded so a long-lived process does not grow without limit. */
const COUNTED_RUNS_LIMIT = 10_000;

/** Run durations: from a second to an hour and a half. */
const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400];
/** GitHub waits 10 s for an answer; the interesting part is well below that. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function eventLabel(event: string | undefined): string {
  if (event === undefined || event === "") return "unknown";
  return (HANDLED_EVENTS as readonly string[]).includes(event) ? event : "other";
}

export function createMetrics(state: StoredState, options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry });

  const deliveries = new Counter({
    name: "deploybot_webhook_deliveries_total",
    help: "Webhook deliveries by event and outcome (accepted, ignored, duplicate, rejected, recovered).",
    labelNames: ["event", "outcome"] as const,
    registers: [registry],
  });
  const ack = new Histogram({
    name: "deploybot_webhook_ack_seconds",
    help: "Seconds from a verified webhook delivery to the answer sent to GitHub.",
    buckets: ACK_BUCKETS,
    registers: [registry],
  });
  const finished = new Counter({
    name: "deploybot_runs_finished_total",
    help: "Runs that reached a final state, by pipeline and state.",
    labelNames: ["pipeline", "state"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "deploybot_run_duration_seconds",
    help: "Seconds from a run's start to its end, by pipeline (runs that started).",
    labelNames: ["pipeline"] as const,
    buckets: RUN_DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "deploybot_runs_queued",
    help: "Runs recorded as queued (waiting for a worker), read from the database at scrape time.",
    registers: [registry],
    async collect() {
      this.set(await state.queuedRuns());
    },
  });
  const github = new Counter({
    name: "deploybot_github_requests_total",
    help: "GitHub API requests by response status (network: no response).",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const notifications = new Counter({
    name: "deploybot_notifications_total",
    help: "Attempts to send a notification, by channel (slack, webhook) and outcome (sent, retry, failed).",
    labelNames: ["channel", "outcome"] as const,
    registers: [registry],
  });

  const counted = new Set<string>();
  return {
    registry,
    delivery: (event, outcome) => deliveries.inc({ event: eventLabel(event), outcome }),
    acked: (seconds) => ack.observe(seconds),
    runChanged: (run) => {
      if (!FINAL_RUN_STATES.has(run.state) || counted.has(run.id)) return;
      counted.add(run.id);
      if (counted.size > COUNTED_RUNS_LIMIT) {
        const oldest = counted.values().next().value;
        if (oldest !== undefined) counted.delete(oldest);
      }
      finished.inc({ pipeline: run.pipeline, state: run.state });
      if (run.startedAt && run.finishedAt)
        duration.observe(
          { pipeline: run.pipeline },
          (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
        );
    },
    githubRequest: (status) => github.inc({ status: String(status) }),
    notification: (channel, outcome) => notifications.inc({ channel, outcome }),
  };
}
