import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The first `push` to `refs/heads/master` from `@octokit/webhooks-examples` (~7.6 KB as compact JSON). */
export function pushExample(): Record<string, unknown> {
  const defs = require("@octokit/webhooks-examples") as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  const push = defs.find((d) => d.name === "push")?.examples.find((e) => e.ref === "refs/heads/master");
  if (push === undefined) throw new Error("no push example for refs/heads/master");
  return push;
}
