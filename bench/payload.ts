import { createHmac } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const BENCH_SECRET = "bench-webhook-secret";
export const WEBHOOK_PATH = "/api/github/webhooks";

/** The payload: the `push` to `refs/heads/master` from `@octokit/webhooks-examples`, compact JSON. */
export function pushPayload(ref = "refs/heads/master"): Buffer {
  const defs = require("@octokit/webhooks-examples") as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  const push = defs.find((d) => d.name === "push")?.examples.find((e) => e.ref === "refs/heads/master");
  if (push === undefined) throw new Error("no push example for refs/heads/master");
  return Buffer.from(JSON.stringify({ ...push, ref }));
}

/** The same push with its ref, head sha and clone URL replaced (a repository the bench serves). */
export function pushBody(change: { ref: string; after: string; cloneUrl: string }): Buffer {
  const push = JSON.parse(pushPayload().toString("utf8")) as {
    repository: Record<string, unknown>;
    head_commit: Record<string, unknown> | null;
  };
  return Buffer.from(
    JSON.stringify({
      ...push,
      ref: change.ref,
      after: change.after,
      head_commit: push.head_commit ? { ...push.head_commit, id: change.after } : null,
      repository: { ...push.repository, clone_url: change.cloneUrl },
    }),
  );
}

/** `X-Hub-Signature-256` for `body`. */
export function sign(body: Buffer, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
