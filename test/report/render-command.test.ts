/** How commands and manual gates read on GitHub: exact strings. */
import { describe, expect, it } from "vitest";
import { COMMENT_MARKER, renderComment, renderNoteComment } from "../../src/report/render-comment.ts";
import { renderStatus } from "../../src/report/render-status.ts";
import { at, prEvent, pushEvent, run, SHA } from "./fixtures.ts";

const runUrl = (id: string) => `https://bot.example.com/runs/${id}`;

describe("a waiting manual run", () => {
  it("is pending, naming the command that starts it", () => {
    const waiting = run({ pipeline: "deploy-production", environment: "production", state: "waiting" });
    expect(renderStatus(waiting, [waiting], at(0))).toEqual({
      state: "pending",
      description: "Waiting for /deploy-bot deploy production",
    });
  });
});

describe("a rollback's status", () => {
  it("says it is a rollback, and to which commit", () => {
    const rollback = run({ state: "running", rollbackOf: "9".repeat(40), event: pushEvent() });
    expect(renderStatus(rollback, [rollback], at(0))).toEqual({
      state: "pending",
      description: "Rollback to 1a2b3c4: Running",
    });
  });
});

describe("the one comment for commands", () => {
  it("says who started the runs with which command", () => {
    const event = prEvent({ command: { text: "/deploy-bot deploy staging", by: "alice", issueNumber: 7 } });
    const body = renderComment({
      event,
      runs: [run({ id: "r1", event, pipeline: "deploy-staging", environment: "staging", state: "queued" })],
      tails: new Map(),
      runUrl,
      now: at(0),
      note: "🚀 note",
    });
    expect(body).toBe(
      [
        COMMENT_MARKER,
        "### deploy-bot",
        "",
        `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA}) · \`feature\` → \`main\``,
        "",
        "Started by @\u200balice with `/deploy-bot deploy staging`.",
        "",
        "| Pipeline | Status | Duration | Run |",
        "| --- | --- | --- | --- |",
        "| deploy-staging (staging) | ⏳ Queued | — | [details](https://bot.example.com/runs/r1) |",
        "",
        "🚀 note",
        "",
      ].join("\n"),
    );
  });

  it("marks a rollback and what it replaces, on an issue's commit", () => {
    const event = pushEvent({
      branch: undefined,
      ref: SHA,
      command: {
        text: "/deploy-bot rollback production",
        by: "bob",
        issueNumber: 12,
        rollbackOf: "9".repeat(40),
      },
    });
    const body = renderComment({
      event,
      runs: [
        run({ id: "r2", event, pipeline: "deploy-production", environment: "production", state: "running" }),
      ],
      tails: new Map(),
      runUrl,
      now: at(0),
    });
    expect(body.split("\n").slice(3, 6)).toEqual([
      `Commit [\`1a2b3c4\`](https://github.com/acme/app/commit/${SHA})`,
      "",
      "Started by @\u200bbob with `/deploy-bot rollback production`: **Rollback to `1a2b3c4`**, replacing `9999999`.",
    ]);
  });

  it("shows a hostile command line literally and mentions nobody", () => {
    const event = pushEvent({
      command: { text: "/deploy-bot deploy `x` @org/team <img src=x>", by: "eve", issueNumber: 3 },
    });
    const body = renderComment({ event, runs: [run({ event })], tails: new Map(), runUrl, now: at(0) });
    expect(body).toContain("Started by @\u200beve with ``/deploy-bot deploy `x` @org/team <img src=x>``.");
  });

  it("without runs is the marker, the title and the note", () => {
    expect(renderNoteComment("😕 refused")).toBe(`${COMMENT_MARKER}\n### deploy-bot\n\n😕 refused\n`);
  });
});
