import { describe, expect, it } from "vitest";
import { environmentWaitLine, ordinal } from "../../src/report/environment-wait.ts";
import type { RunState } from "../../src/runs/run.ts";
import type { EnvironmentQueue } from "../../src/store/environment-queue.ts";
import { prEvent, run } from "./fixtures.ts";

const event = prEvent();
const runUrl = (id: string) => `https://bot.example.com/runs/${id}`;
const RUNNING_SHA = "abc1234def5678abc1234def5678abc1234def56";
const deploy = (state: RunState, environment: string | null = "production") =>
  run({ id: "me", event, pipeline: "deploy", environment, state });
const queue = (queued: string[], runningId: string | null = "other"): EnvironmentQueue => ({
  running: runningId === null ? null : { runId: runningId, sha: RUNNING_SHA },
  queued,
});

describe("ordinal", () => {
  it.each([
    [1, "1st"],
    [2, "2nd"],
    [3, "3rd"],
    [4, "4th"],
    [11, "11th"],
    [12, "12th"],
    [13, "13th"],
    [21, "21st"],
    [102, "102nd"],
    [111, "111th"],
  ])("%i is %s", (n, expected) => {
    expect(ordinal(n)).toBe(expected);
  });
});

describe("environmentWaitLine", () => {
  it.each<[string, ReturnType<typeof deploy>, EnvironmentQueue | undefined, string | undefined]>([
    [
      "first in line",
      deploy("queued"),
      queue(["me", "later"]),
      "⏳ Waiting for production: `abc1234` is deploying ([run](https://bot.example.com/runs/other)); this is 1st in line.",
    ],
    [
      "second in line",
      deploy("queued"),
      queue(["ahead", "me"]),
      "⏳ Waiting for production: `abc1234` is deploying ([run](https://bot.example.com/runs/other)); this is 2nd in line.",
    ],
    ["nothing running there", deploy("queued"), queue(["me"], null), undefined],
    ["not in line yet (needs pending)", deploy("queued"), queue(["ahead"]), undefined],
    ["no queue read", deploy("queued"), undefined, undefined],
    ["running itself", deploy("running"), queue([], "me"), undefined],
    ["waiting for a command", deploy("waiting"), queue(["me"]), undefined],
    ["no environment", deploy("queued", null), queue(["me"]), undefined],
  ])("%s", (_name, record, read, expected) => {
    expect(environmentWaitLine(record, read, runUrl)).toBe(expected);
  });

  it("escapes the environment name and leaves the link out without a public URL", () => {
    expect(environmentWaitLine(deploy("queued", "pr*od"), queue(["me"]), () => undefined)).toBe(
      "⏳ Waiting for pr\\*od: `abc1234` is deploying; this is 1st in line.",
    );
  });
});
