/**
 * The Slack message for one notification: `text` (the fallback shown in push notifications) and Block Kit
 * `blocks`. Pure. Every piece of user-controlled text goes through `slackText`, so a branch named
 * `<!channel>` or `*bold*` shows as typed and pings nobody; values are cut to fit Slack's block limits.
 */
import { formatDuration } from "../config/duration.ts";
import type { NotificationOutcome } from "../config/schema.ts";
import { singleLine, truncateText } from "../report/truncate-text.ts";
import type { NotificationRun } from "./notification-run.ts";

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export type SlackBlock =
  | { readonly type: "section"; readonly text: MrkdwnText; readonly fields?: readonly MrkdwnText[] }
  | { readonly type: "context"; readonly elements: readonly MrkdwnText[] };

interface MrkdwnText {
  readonly type: "mrkdwn";
  readonly text: string;
}

export const OUTCOME_EMOJI: Readonly<Record<NotificationOutcome, string>> = {
  started: ":arrow_forward:",
  succeeded: ":white_check_mark:",
  failed: ":x:",
  error: ":warning:",
};

const OUTCOME_WORD: Readonly<Record<NotificationOutcome, string>> = {
  started: "started",
  succeeded: "succeeded",
  failed: "failed",
  error: "could not run",
};

/** A value in a field is cut to this many characters (before escaping); Slack allows 2,000 per field. */
const VALUE_MAX = 150;
/** The log tail section's content is cut to this (Slack allows 3,000 per section). */
const LOG_MAX = 2_500;
const ZWSP = "\u200b";

/**
 * User text made inert in Slack mrkdwn: `&`, `<` and `>` become entities (so `<!channel>`, `<@U123>`,
 * `<#C1>` and `<url|label>` are plain text), formatting characters are fenced with zero-width spaces so
 * they cannot open bold, italics, strike or code, and `@` cannot become a mention. One line, at most `max`.
 */
export function slackText(text: string, max = VALUE_MAX): string {
  return escapeEntities(truncateText(singleLine(text), max))
    .replace(/[*_~`]/g, (c) => `${ZWSP}${c}${ZWSP}`)
    .replace(/@/g, `@${ZWSP}`);
}

const escapeEntities = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** `<url|label>` with the URL's characters that would end the link escaped; label must be escaped already. */
export function slackLink(url: string, label: string): string {
  const safe = escapeEntities(url).replace(/\|/g, "%7C").replace(/\s/g, "%20");
  return `<${safe}|${label}>`;
}

export function renderSlack(run: NotificationRun): SlackMessage {
  const emoji = OUTCOME_EMOJI[run.outcome];
  const where = run.environment === null ? "" : ` to ${slackText(run.environment)}`;
  const headline = `${emoji} *${slackText(run.pipeline)}*${where} ${OUTCOME_WORD[run.outcome]} on ${slackText(run.repository)} at \`${run.shortSha}\``;
  const text = `${emoji} ${slackText(run.repository)}: ${slackText(run.pipeline)}${where} ${OUTCOME_WORD[run.outcome]} at ${run.shortSha}`;

  const field = (label: string, value: string): MrkdwnText => ({
    type: "mrkdwn",
    text: `*${label}*\n${value}`,
  });
  const fields: MrkdwnText[] = [
    field("Repository", slackText(run.repository)),
    field("Pipeline", slackText(run.pipeline)),
    field("Environment", run.environment === null ? "none" : slackText(run.environment)),
    field("Outcome", `${emoji} ${run.outcome}`),
    field("Commit", slackLink(run.commitUrl, `\`${run.shortSha}\``)),
    run.prNumber !== null && run.prUrl !== null
      ? field(
          "Pull request",
          `${slackLink(run.prUrl, `#${run.prNumber}`)} ${slackText(run.branch ?? "")}`.trim(),
        )
      : run.tag !== null
        ? field("Tag", slackText(run.tag))
        : field("Branch", slackText(run.branch ?? run.ref)),
    field("Duration", run.durationMs === null ? "not started" : formatDuration(run.durationMs)),
    field("Triggered by", slackText(run.trigger)),
  ];
  if (run.environmentUrl !== null)
    fields.push(field("Environment URL", slackLink(run.environmentUrl, slackText(run.environmentUrl))));

  const blocks: SlackBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: headline }, fields },
    { type: "section", text: { type: "mrkdwn", text: slackText(run.description, 300) } },
  ];
  if (run.logTail.length > 0) {
    // Inside a code block nothing is formatted, but entities still are: escape them, and break backtick runs
    // so the log cannot close the block.
    const log = escapeEntities(truncateText(run.logTail.join("\n"), LOG_MAX)).replace(/`/g, `\`${ZWSP}`);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `\`\`\`\n${log}\n\`\`\`` } });
  }
  if (run.url !== null)
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: slackLink(run.url, "View the run") }],
    });
  return { text, blocks };
}
