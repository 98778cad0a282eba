/**
 * `deploy-bot notify test <name> [--config file]`: sends one sample notification through the channel the named
 * notification is configured with (its variables read from this environment, as the server would) and prints the
 * receiver's answer, so an operator can check the wiring before a real deploy. Exit 0 if it was accepted.
 */
import { randomBytes } from "node:crypto";
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import type { NotificationOutcome } from "../config/schema.ts";
import { maskText } from "../exec/mask-secrets.ts";
import { listMatches } from "../match/pattern-list.ts";
import { githubWebUrl } from "../notify/app-notifications.ts";
import { notificationRun } from "../notify/notification-run.ts";
import { notificationSecretValues, resolveNotificationTargets } from "../notify/notification-targets.ts";
import { sendTo } from "../notify/notifier.ts";
import { renderSlack } from "../notify/render-slack.ts";
import { renderWebhook } from "../notify/render-webhook.ts";
import { loggableUrl } from "../notify/send-result.ts";
import { webhookId } from "../notify/send-webhook.ts";
import type { RunRecord, RunState } from "../runs/run.ts";
import { defaultConfigPath, parseCommandArgs } from "./args.ts";
import { usageError } from "./usage.ts";

export const NOTIFY_USAGE = "Usage: deploy-bot notify test <name> [--config file]";

const STATE_OF: Record<NotificationOutcome, RunState> = {
  started: "running",
  succeeded: "passed",
  failed: "failed",
  error: "error",
};

export async function notifyCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs(
    argv,
    { config: { type: "string" }, help: { type: "boolean", short: "h" } },
    2,
  );
  if (!args.ok) return usageError(args.error, NOTIFY_USAGE);
  if (args.values.help) {
    process.stdout.write(`${NOTIFY_USAGE}\n`);
    return 0;
  }
  const [sub, name] = args.positionals;
  if (sub !== "test")
    return usageError(sub === undefined ? "missing subcommand" : `unknown subcommand "${sub}"`, NOTIFY_USAGE);
  if (name === undefined) return usageError("missing notification name", NOTIFY_USAGE);

  const file = args.values.config ?? defaultConfigPath();
  const loaded = await loadConfig(file);
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => `${formatConfigError(e)}\n`).join(""));
    return 1;
  }
  const { config } = loaded;
  const notification = config.notifications.find((n) => n.name === name);
  if (!notification) {
    const known = config.notifications.map((n) => n.name);
    process.stderr.write(
      `deploy-bot: no notification named ${JSON.stringify(name)} in ${file}${known.length > 0 ? ` (notifications: ${known.join(", ")})` : " (it has no notifications)"}\n`,
    );
    return 1;
  }
  const resolved = resolveNotificationTargets(config, process.env, name);
  if (!resolved.ok) {
    for (const error of resolved.errors) process.stderr.write(`deploy-bot: ${error}\n`);
    return 1;
  }
  const target = resolved.targets.get(name);
  if (!target) return 1;

  const now = new Date();
  const outcome: NotificationOutcome = notification.on.includes("failed")
    ? "failed"
    : (notification.on[0] ?? "failed");
  const secrets = notificationSecretValues(config, process.env, resolved.targets);
  const view = notificationRun(
    sampleRun(config.pipelines, notification.pipelines, STATE_OF[outcome], now),
    outcome,
    {
      publicUrl: process.env.PUBLIC_URL?.replace(/\/+$/, "") || undefined,
      githubWebUrl: githubWebUrl(
        process.env.GHE_HOST
          ? `${process.env.GHE_PROTOCOL || "https"}://${process.env.GHE_HOST}/api/v3`
          : undefined,
      ),
      mask: (text) => maskText(text, { secrets }),
    },
    ["This is a sample notification from `deploy-bot notify test`."],
  );
  const body = target.channel === "slack" ? renderSlack(view) : JSON.stringify(renderWebhook(view, now));
  const result = await sendTo(target, body, webhookId(`${name}:test:${randomBytes(8).toString("hex")}`));
  const where = `${name} (${target.channel}, ${loggableUrl(target.url)})`;
  const mask = (text: string) => maskText(text, { secrets }).split(target.url).join(loggableUrl(target.url));
  if (result.ok) {
    process.stdout.write(
      `${where}: sent a sample "${outcome}" notification: HTTP ${result.status}${result.answer ? `: ${mask(result.answer)}` : ""}\n`,
    );
    return 0;
  }
  const why = result.retryable ? "the server would retry this" : "the server would not retry this";
  process.stderr.write(`${where}: not delivered: ${mask(result.error)} (${why})\n`);
  return 1;
}

/** A run that looks like a real one: the first pipeline the notification covers (or any), on `main`. */
function sampleRun(
  pipelines: Record<string, { environment?: string | undefined }>,
  filter: readonly string[] | undefined,
  state: RunState,
  now: Date,
): RunRecord {
  const names = Object.keys(pipelines);
  const pipeline = names.find((n) => filter === undefined || listMatches(filter, n)) ?? names[0] ?? "deploy";
  const started = new Date(now.getTime() - 42_000);
  const final = state !== "running";
  return {
    id: `notify-test-${randomBytes(6).toString("hex")}`,
    deliveryId: "notify-test",
    pipeline,
    environment: pipelines[pipeline]?.environment ?? null,
    needs: [],
    state,
    detail: final ? "Sample notification from deploy-bot notify test" : null,
    event: {
      kind: "push",
      action: "push",
      deliveryId: "notify-test",
      repo: {
        owner: "example",
        name: "repository",
        fullName: "example/repository",
        cloneUrl: "https://github.com/example/repository.git",
        private: false,
      },
      installationId: undefined,
      sha: "0123456789abcdef0123456789abcdef01234567",
      ref: "refs/heads/main",
      changedFiles: { known: true, files: [] },
      sender: "deploy-bot",
      branch: "main",
      tag: undefined,
      before: "0".repeat(40),
      fork: false,
    },
    steps: [
      {
        index: 0,
        name: "Sample step",
        state: final ? (state === "passed" ? "passed" : "failed") : "running",
        exitCode: null,
        startedAt: started,
        finishedAt: final ? now : null,
      },
    ],
    createdAt: started,
    startedAt: started,
    finishedAt: final ? now : null,
  };
}
