/**
 * `issue_comment` webhook payload → `CommentCommand`, or `Ignored` with the reason. Only newly created comments
 * by people count: edits, deletions, the bot's own comments and other bots' comments are never commands.
 * Nothing here is trusted for authorisation: the commenter's permission and the PR's head are read through
 * the API when the command is carried out.
 */
import type { Ignored, RepoRef } from "./deploy-event.ts";
import { ignored } from "./deploy-event.ts";
import {
  ignoringMalformed,
  installationId,
  int,
  isObject,
  MalformedPayload,
  obj,
  optionalObj,
  repoRef,
  str,
} from "./normalise-fields.ts";
import { type Command, parseCommand } from "./parse-command.ts";
import type { WebhookPayload } from "./webhook-events.ts";

type Payload = WebhookPayload<"issue_comment">;

export interface CommentCommand {
  readonly deliveryId: string;
  readonly repo: RepoRef;
  readonly installationId: number;
  /** Login of the commenter (checked through the API before anything runs). */
  readonly sender: string;
  readonly commentId: number;
  /** The issue or pull request number. */
  readonly issueNumber: number;
  readonly onPullRequest: boolean;
  /** The command line as written (one line, bounded). */
  readonly text: string;
  /** The command, or why the line is not a valid one. */
  readonly parsed: { readonly command: Command } | { readonly refused: string };
}

export function normaliseComment(deliveryId: string, payload: unknown): CommentCommand | Ignored {
  return ignoringMalformed(() => readComment(deliveryId, payload));
}

function readComment(deliveryId: string, payload: unknown): CommentCommand | Ignored {
  if (!isObject(payload)) throw new MalformedPayload("the payload is not a JSON object");
  const action = str<Payload>(payload, "action", "action");
  if (action !== "created") return ignored(`comment ${action}: only new comments are commands`);
  const comment = obj<Payload>(payload, "comment", "comment");
  const user = optionalObj(comment, "user") ?? {};
  const sender = optionalObj(payload, "sender") ?? {};
  const login = typeof user.login === "string" ? user.login : "";
  if (user.type === "Bot" || sender.type === "Bot" || login.endsWith("[bot]"))
    return ignored("comments by bots (this one included) are never commands");
  const body = typeof comment.body === "string" ? comment.body : "";
  const parsed = parseCommand(body);
  if (parsed.kind === "none") return ignored(parsed.reason);
  const issue = obj<Payload>(payload, "issue", "issue");
  const installation = installationId(payload);
  if (installation === undefined) return ignored("no installation: the App cannot answer");
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(login))
    throw new MalformedPayload("comment.user.login is not a GitHub login");
  return {
    deliveryId,
    repo: repoRef(payload),
    installationId: installation,
    sender: login,
    commentId: int(comment, "id", "comment.id"),
    issueNumber: int(issue, "number", "issue.number"),
    onPullRequest: optionalObj(issue, "pull_request") !== undefined,
    text: parsed.text,
    parsed: parsed.kind === "command" ? { command: parsed.command } : { refused: parsed.reason },
  };
}
