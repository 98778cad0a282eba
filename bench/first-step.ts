/**
 * Push → first step running: the time from sending a signed push webhook to the moment the step's process
 * has started (it creates a file named after the delivery in a watched directory), on a long-lived server
 * whose mirror of the repository is already warm. Pushes are sent one at a time.
 */
import { randomUUID } from "node:crypto";
import { watch } from "node:fs";
import type { FakeGitHub } from "./fake-github.ts";
import { pushBody, sign, WEBHOOK_PATH } from "./payload.ts";

export const FIRST_STEP_BRANCH = "first-step";

export interface FirstStepSample {
  /** Webhook sent → 2xx received. */
  readonly acknowledgedMs: number;
  /** Webhook sent → the step's process created its file. */
  readonly stepStartedMs: number;
}

/** Watches `markDir` for step marks; `measure` sends one push and waits (bounded) for its mark. */
export function firstStepProbe(markDir: string, github: FakeGitHub, port: number, secret: string) {
  const waiting = new Map<string, (at: number) => void>();
  const watcher = watch(markDir, (_event, name) => {
    const at = performance.now();
    if (name) waiting.get(String(name))?.(at);
  });
  return {
    async measure(): Promise<FirstStepSample> {
      const sha = await github.newCommit(FIRST_STEP_BRANCH);
      const deliveryId = randomUUID();
      const body = pushBody({
        ref: `refs/heads/${FIRST_STEP_BRANCH}`,
        after: sha,
        cloneUrl: github.cloneUrl,
      });
      const marked = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no step started for ${deliveryId} within 30 s`)),
          30_000,
        );
        waiting.set(deliveryId, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
      const sent = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": sign(body, secret),
        },
        body,
      });
      await res.arrayBuffer();
      const acknowledged = performance.now();
      if (res.status >= 300) throw new Error(`push answered ${res.status}`);
      try {
        const started = await marked;
        return { acknowledgedMs: acknowledged - sent, stepStartedMs: started - sent };
      } finally {
        waiting.delete(deliveryId);
      }
    },
    close: () => watcher.close(),
  };
}
