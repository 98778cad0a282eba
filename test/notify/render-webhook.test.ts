import { describe, expect, it } from "vitest";
import { notificationRun } from "../../src/notify/notification-run.ts";
import { renderWebhook } from "../../src/notify/render-webhook.ts";
import { at, prEvent, run, SHA, testSteps } from "../report/fixtures.ts";

const context = {
  publicUrl: "https://bot.example.com",
  githubWebUrl: "https://ghe.example.com",
  mask: (text: string) => text.replaceAll("hunter2-secret", "***"),
};

describe("renderWebhook", () => {
  it("is the contract's envelope with the full run, as exact JSON", () => {
    const failed = run({
      id: "r1",
      pipeline: "test",
      state: "failed",
      detail: "Unit tests exited with 1",
      startedAt: at(0),
      finishedAt: at(40),
      steps: testSteps(["passed", "failed"]),
      event: prEvent({ sender: "hunter2-secret" }),
    });
    const view = notificationRun(failed, "failed", context, ["boom hunter2-secret"]);
    expect(JSON.stringify(renderWebhook(view, at(41)))).toBe(
      JSON.stringify({
        type: "run.failed",
        timestamp: "2025-01-01T12:00:41.000Z",
        data: {
          run: {
            id: "r1",
            url: "https://bot.example.com/runs/r1",
            repository: "acme/app",
            pipeline: "test",
            environment: null,
            state: "failed",
            outcome: "failed",
            description: "Failed: Unit tests exited with 1",
            sha: SHA,
            ref: "refs/pull/7/head",
            branch: "feature",
            tag: null,
            pull_request: 7,
            event: "pull_request",
            action: "opened",
            sender: "***",
            trigger: "pull request #7 by ***",
            delivery_id: "delivery-1",
            commit_url: `https://ghe.example.com/acme/app/commit/${SHA}`,
            environment_url: null,
            created_at: "2025-01-01T12:00:00.000Z",
            started_at: "2025-01-01T12:00:00.000Z",
            finished_at: "2025-01-01T12:00:40.000Z",
            duration_ms: 40000,
            steps: [
              {
                name: "Install",
                state: "passed",
                exit_code: 0,
                started_at: "2025-01-01T12:00:00.000Z",
                finished_at: "2025-01-01T12:00:20.000Z",
              },
              {
                name: "Unit tests",
                state: "failed",
                exit_code: 1,
                started_at: "2025-01-01T12:00:20.000Z",
                finished_at: "2025-01-01T12:00:40.000Z",
              },
              { name: "Lint", state: "pending", exit_code: null, started_at: null, finished_at: null },
            ],
            log_tail: ["boom ***"],
          },
        },
      }),
    );
  });

  it.each([
    ["started", "running"],
    ["succeeded", "passed"],
    ["error", "interrupted"],
  ] as const)("type is run.%s", (outcome, state) => {
    const view = notificationRun(run({ state }), outcome, { ...context, publicUrl: undefined });
    const envelope = renderWebhook(view, at(0));
    expect(envelope.type).toBe(`run.${outcome}`);
    expect(envelope.data.run.url).toBeNull();
    expect(envelope.data.run.state).toBe(state);
  });

  it("drops an environment URL that is not http(s)", () => {
    const view = notificationRun(
      { ...run({ state: "passed" }), environmentUrl: "javascript:alert(1)" } as never,
      "succeeded",
      context,
    );
    expect(renderWebhook(view, at(0)).data.run.environment_url).toBeNull();
  });
});
