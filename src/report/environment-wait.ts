/**
 * The line under the PR comment's table for a deploy waiting in its environment's queue:
 * `⏳ Waiting for production: \`abc1234\` is deploying ([run](…)); this is 2nd in line.` Pure.
 */
import type { RunRecord } from "../runs/run.ts";
import type { EnvironmentQueue } from "../store/environment-queue.ts";
import { codeSpan, escapeMarkdown, markdownUrl } from "./escape-markdown.ts";
import { singleLine, truncateText } from "./truncate-text.ts";

/** `1st`, `2nd`, `3rd`, `4th`, `11th`, `12th`, `13th`, `21st`, … */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  const suffix = { 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/**
 * Why `run` has not started, when it is queued for an environment another run holds; undefined otherwise
 * (not queued, no environment, nothing running there, or not in line yet because its needs have not passed).
 */
export function environmentWaitLine(
  run: RunRecord,
  queue: EnvironmentQueue | undefined,
  runUrl: (runId: string) => string | undefined,
): string | undefined {
  if (run.state !== "queued" || run.environment === null || !queue?.running) return undefined;
  if (queue.running.runId === run.id) return undefined;
  const place = queue.queued.indexOf(run.id);
  if (place < 0) return undefined;
  const environment = escapeMarkdown(truncateText(singleLine(run.environment), 100));
  const url = runUrl(queue.running.runId);
  const link = url ? ` ([run](${markdownUrl(url)}))` : "";
  const sha = codeSpan(queue.running.sha.slice(0, 7));
  return `⏳ Waiting for ${environment}: ${sha} is deploying${link}; this is ${ordinal(place + 1)} in line.`;
}
