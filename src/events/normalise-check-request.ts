/**
 * `check_run` / `check_suite` webhook payload → `CheckRequest`, or `Ignored` with the reason. Only what a
 * person asks of deploy-bot's own check runs counts: "Re-run" (`check_run.rerequested`), "Re-run all checks"
 * (`check_suite.rerequested`) and a button (`check_run.requested_action`). The deliveries GitHub sends about
 * every check run the bot writes (`created`, `completed`), `check_suite.requested` (pushes are read from `push`)
 * and other Apps' check runs are ignored. Nothing here is trusted for authorisation: the run is found in the
 * store by `external_id` (never by the payload's pull requests, empty for forks), the user's permission is read
 * through the API.
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
  sha,
  str,
} from "./normalise-fields.ts";
import type { WebhookPayload } from "./webhook-events.ts";

type CheckRunPayload = WebhookPayload<"check_run">;
type CheckSuitePayload = WebhookPayload<"check_suite">;

/** The actions that are requests; every other `check_run` / `check_suite` action is ignored unread. */
export const CHECK_REQUEST_ACTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ["check_run", ["rerequested", "requested_action"]],
  ["check_suite", ["rerequested"]],
]);

interface CheckRequestBase {
  readonly deliveryId: string;
  readonly repo: RepoRef;
  readonly installationId: number;
  /** Login of the user who clicked (checked through the API before anything runs). */
  readonly sender: string;
  /** The commit the check run or suite is on. */
  readonly sha: string;
}

export type CheckRequest =
  /** "Re-run" on one check run: `runId` is its `external_id`. */
  | (CheckRequestBase & { readonly kind: "rerun"; readonly runId: string; readonly checkRunId: number })
  /** "Re-run all checks": every pipeline of the commit. */
  | (CheckRequestBase & { readonly kind: "rerun-all" })
  /** A button (`actions`) on one check run. */
  | (CheckRequestBase & {
      readonly kind: "action";
      readonly runId: string;
      readonly checkRunId: number;
      readonly identifier: string;
    });

/** Run ids are 128 random bits in base64url (`store/run-keys.ts`); anything else is not ours. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
/** GitHub's limit for an action's identifier. */
const IDENTIFIER = /^[A-Za-z0-9_-]{1,20}$/;

export function normaliseCheckRequest(
  name: string,
  deliveryId: string,
  payload: unknown,
  appId: string,
): CheckRequest | Ignored {
  return ignoringMalformed(() => readCheckRequest(name, deliveryId, payload, appId));
}

function readCheckRequest(
  name: string,
  deliveryId: string,
  payload: unknown,
  appId: string,
): CheckRequest | Ignored {
  if (!isObject(payload)) throw new MalformedPayload("the payload is not a JSON object");
  const action = str<CheckRunPayload>(payload, "action", "action");
  const wanted = CHECK_REQUEST_ACTIONS.get(name);
  if (!wanted) return ignored(`${JSON.stringify(name)} events are not check requests`);
  if (!wanted.includes(action))
    return ignored(`${name} ${action}: only ${wanted.join(" and ")} ask deploy-bot for something`);
  const subject =
    name === "check_run"
      ? obj<CheckRunPayload>(payload, "check_run", "check_run")
      : obj<CheckSuitePayload>(payload, "check_suite", "check_suite");
  const app = optionalObj(subject, "app");
  if (typeof app?.id !== "number" || String(app.id) !== appId)
    return ignored(`${name} of another App: not deploy-bot's`);
  const sender = optionalObj(payload, "sender") ?? {};
  const login = typeof sender.login === "string" ? sender.login : "";
  if (sender.type === "Bot" || login.endsWith("[bot]")) return ignored("requests by bots are never acted on");
  if (!LOGIN.test(login)) throw new MalformedPayload("sender.login is not a GitHub login");
  const installation = installationId(payload);
  if (installation === undefined) return ignored("no installation: the App cannot answer");
  const base = {
    deliveryId,
    repo: repoRef(payload),
    installationId: installation,
    sender: login,
    sha: sha(subject, "head_sha", `${name}.head_sha`),
  };
  if (name === "check_suite") return { ...base, kind: "rerun-all" };

  const externalId = typeof subject.external_id === "string" ? subject.external_id : "";
  if (!RUN_ID.test(externalId)) return ignored("the check run's external_id is not a deploy-bot run id");
  const checkRunId = int(subject, "id", "check_run.id");
  if (action === "rerequested") return { ...base, kind: "rerun", runId: externalId, checkRunId };
  const requested = obj<CheckRunPayload>(payload, "requested_action", "requested_action");
  const identifier = str(requested, "identifier", "requested_action.identifier");
  if (!IDENTIFIER.test(identifier))
    throw new MalformedPayload("requested_action.identifier is not a button identifier");
  return { ...base, kind: "action", runId: externalId, checkRunId, identifier };
}

/** True for a `check_run` / `check_suite` action that is a request (what catch-up fetches). */
export function isCheckRequestAction(name: string, action: string | null | undefined): boolean {
  return CHECK_REQUEST_ACTIONS.get(name)?.includes(action ?? "") ?? false;
}
