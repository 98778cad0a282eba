/**
 * Webhooks as GitHub sends them, for the in-process (test/e2e) and process-level (test/process) suites:
 * signed deliveries over real HTTP, and push / pull_request payloads from the octokit example fixtures
 * pointed at a test repository.
 */
import { createHmac, randomUUID } from "node:crypto";
import { fixture } from "../fixtures/fixtures.ts";

export interface SentWebhook {
  readonly status: number;
  readonly text: string;
  readonly id: string;
}

/** POSTs a signed delivery to `<baseUrl>/api/github/webhooks`. */
export async function sendWebhook(
  baseUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<SentWebhook> {
  const body = JSON.stringify(payload);
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  const response = await fetch(`${baseUrl}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": `sha256=${signature}`,
    },
    body,
  });
  return { status: response.status, text: await response.text(), id: deliveryId };
}

type Payload = Record<string, unknown>;

/** A `push` of `sha` onto `branch`; `patchRepository` points the payload at the test's repository. */
export function pushPayload(
  patchRepository: (payload: Payload) => void,
  sha: string,
  { branch = "main", before = "1".repeat(40) }: { branch?: string; before?: string } = {},
): Payload {
  const payload = fixture("push.branch");
  patchRepository(payload);
  payload.ref = `refs/heads/${branch}`;
  payload.before = before;
  payload.after = sha;
  for (const commit of payload.commits as Payload[]) commit.id = sha;
  (payload.head_commit as Payload).id = sha;
  return payload;
}

/** A `pull_request` delivery of `action` for PR `number` whose head is `sha` in the repository at `cloneUrl`. */
export function pullRequestPayload(
  patchRepository: (payload: Payload) => void,
  action: string,
  { sha, number, cloneUrl }: { sha: string; number: number; cloneUrl: string },
): Payload {
  const payload = fixture(`pull_request.${action}`);
  patchRepository(payload);
  payload.number = number;
  const pr = payload.pull_request as Payload;
  pr.number = number;
  const head = pr.head as Payload;
  head.sha = sha;
  (head.repo as Payload).clone_url = cloneUrl;
  return payload;
}

/** An `issue_comment` delivery: `body` written by `login` on issue or PR `number` (a PR when `pullRequest`). */
export function issueCommentPayload(
  patchRepository: (payload: Payload) => void,
  {
    body,
    number,
    pullRequest,
    commentId = 7001,
    login = "octocat",
    userType = "User",
    action = "created",
  }: {
    body: string;
    number: number;
    pullRequest: boolean;
    commentId?: number;
    login?: string;
    userType?: string;
    action?: string;
  },
): Payload {
  const base = fixture("pull_request.opened");
  const payload: Payload = {
    action,
    issue: {
      number,
      title: "A change",
      ...(pullRequest ? { pull_request: { url: `https://api.github.invalid/pulls/${number}` } } : {}),
    },
    comment: { id: commentId, body, user: { login, type: userType }, author_association: "OWNER" },
    repository: base.repository,
    installation: base.installation,
    sender: { login, type: userType },
  };
  patchRepository(payload);
  return payload;
}
