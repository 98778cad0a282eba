import { describe, expect, it } from "vitest";
import { isCheckRequestAction, normaliseCheckRequest } from "../../src/events/normalise-check-request.ts";
import { fixture } from "../fixtures/fixtures.ts";

type Json = Record<string, unknown>;

const APP_ID = "29310";
const RUN_ID = "f3Q9x2kLmN0pQrStUvWxYz";
const SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const REPO = {
  owner: "Codertocat",
  name: "Hello-World",
  fullName: "Codertocat/Hello-World",
  cloneUrl: "https://github.com/Codertocat/Hello-World.git",
  private: false,
};
const BASE = { deliveryId: "d-1", repo: REPO, installationId: 1, sender: "Codertocat", sha: SHA };

/** The fixture's event name is the part before the first dot. */
const eventName = (name: string) => name.split(".")[0] as string;
/** The check run or check suite of a payload. */
const subject = (p: Json) => (p.check_run ?? p.check_suite) as Json;

/** The fixture, edited by `spoil`, normalised as the event its name says. */
function normalise(name: string, spoil: (p: Json) => void = () => {}, event = eventName(name)) {
  const p = fixture(name);
  spoil(p);
  return normaliseCheckRequest(event, "d-1", p, APP_ID);
}

describe("normaliseCheckRequest", () => {
  it.each<[string, string, (p: Json) => void, unknown]>([
    [
      '"Re-run" on a check run',
      "check_run.rerequested",
      () => {},
      { ...BASE, kind: "rerun", runId: RUN_ID, checkRunId: 128620228 },
    ],
    ['"Re-run all checks" on the suite', "check_suite.rerequested", () => {}, { ...BASE, kind: "rerun-all" }],
    [
      "the deploy button",
      "check_run.requested_action",
      () => {},
      { ...BASE, kind: "action", runId: RUN_ID, checkRunId: 128620228, identifier: "deploy" },
    ],
    [
      "the approve button",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "approve" };
      },
      { ...BASE, kind: "action", runId: RUN_ID, checkRunId: 128620228, identifier: "approve" },
    ],
    [
      "an unknown button (refused later, not here)",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "launch_all-20-chars" };
      },
      { ...BASE, kind: "action", runId: RUN_ID, checkRunId: 128620228, identifier: "launch_all-20-chars" },
    ],
    [
      "a run id of 64 characters",
      "check_run.rerequested",
      (p) => {
        subject(p).external_id = "a".repeat(64);
      },
      { ...BASE, kind: "rerun", runId: "a".repeat(64), checkRunId: 128620228 },
    ],
    [
      'a check run named "constructor"',
      "check_run.rerequested",
      (p) => {
        subject(p).name = "constructor";
      },
      { ...BASE, kind: "rerun", runId: RUN_ID, checkRunId: 128620228 },
    ],
    [
      'a check run named "__proto__"',
      "check_run.requested_action",
      (p) => {
        subject(p).name = "__proto__";
      },
      { ...BASE, kind: "action", runId: RUN_ID, checkRunId: 128620228, identifier: "deploy" },
    ],
    [
      "a sender login with a hyphen",
      "check_run.rerequested",
      (p) => {
        (p.sender as Json).login = "octo-cat";
      },
      { ...BASE, sender: "octo-cat", kind: "rerun", runId: RUN_ID, checkRunId: 128620228 },
    ],
  ])("normalises %s", (_what, name, spoil, expected) => {
    expect(normalise(name, spoil)).toEqual(expected);
  });

  const notOurs = "the check run's external_id is not a deploy-bot run id";
  it.each<[string, string, (p: Json) => void, string]>([
    [
      "check_run created",
      "check_run.created",
      () => {},
      "check_run created: only rerequested and requested_action ask deploy-bot for something",
    ],
    [
      "check_run completed",
      "check_run.rerequested",
      (p) => {
        p.action = "completed";
      },
      "check_run completed: only rerequested and requested_action ask deploy-bot for something",
    ],
    [
      "check_suite requested",
      "check_suite.rerequested",
      (p) => {
        p.action = "requested";
      },
      "check_suite requested: only rerequested ask deploy-bot for something",
    ],
    [
      "check_suite completed",
      "check_suite.rerequested",
      (p) => {
        p.action = "completed";
      },
      "check_suite completed: only rerequested ask deploy-bot for something",
    ],
    [
      "check_suite requested_action",
      "check_suite.rerequested",
      (p) => {
        p.action = "requested_action";
      },
      "check_suite requested_action: only rerequested ask deploy-bot for something",
    ],
    [
      'action "constructor"',
      "check_run.rerequested",
      (p) => {
        p.action = "constructor";
      },
      "check_run constructor: only rerequested and requested_action ask deploy-bot for something",
    ],
    [
      "another App's check run",
      "check_run.rerequested",
      (p) => {
        (subject(p).app as Json).id = 12345;
      },
      "check_run of another App: not deploy-bot's",
    ],
    [
      "another App's button",
      "check_run.requested_action",
      (p) => {
        (subject(p).app as Json).id = 293100;
      },
      "check_run of another App: not deploy-bot's",
    ],
    [
      "another App's check suite",
      "check_suite.rerequested",
      (p) => {
        (subject(p).app as Json).id = 2931;
      },
      "check_suite of another App: not deploy-bot's",
    ],
    [
      "a check run without app",
      "check_run.rerequested",
      (p) => {
        delete subject(p).app;
      },
      "check_run of another App: not deploy-bot's",
    ],
    [
      "a check run whose app is null",
      "check_run.rerequested",
      (p) => {
        subject(p).app = null;
      },
      "check_run of another App: not deploy-bot's",
    ],
    [
      "a check suite without app",
      "check_suite.rerequested",
      (p) => {
        delete subject(p).app;
      },
      "check_suite of another App: not deploy-bot's",
    ],
    [
      "a bot's re-run",
      "check_run.rerequested",
      (p) => {
        p.sender = { login: "dependabot[bot]", type: "Bot" };
      },
      "requests by bots are never acted on",
    ],
    [
      "a bot's re-run all",
      "check_suite.rerequested",
      (p) => {
        p.sender = { login: "octocoders-linter[bot]", type: "Bot" };
      },
      "requests by bots are never acted on",
    ],
    [
      "a bot's button",
      "check_run.requested_action",
      (p) => {
        p.sender = { login: "deploy-bot[bot]", type: "Bot" };
      },
      "requests by bots are never acted on",
    ],
    [
      "a [bot] login posing as a user",
      "check_run.requested_action",
      (p) => {
        (p.sender as Json).login = "evil[bot]";
      },
      "requests by bots are never acted on",
    ],
    [
      "the App id as a string",
      "check_run.rerequested",
      (p) => {
        (subject(p).app as Json).id = APP_ID;
      },
      "check_run of another App: not deploy-bot's",
    ],
    [
      "no installation",
      "check_run.rerequested",
      (p) => {
        delete p.installation;
      },
      "no installation: the App cannot answer",
    ],
    [
      "no installation (suite)",
      "check_suite.rerequested",
      (p) => {
        delete p.installation;
      },
      "no installation: the App cannot answer",
    ],
    [
      "an installation id that is a string",
      "check_run.requested_action",
      (p) => {
        p.installation = { id: "1" };
      },
      "no installation: the App cannot answer",
    ],
    [
      "no external_id",
      "check_run.rerequested",
      (p) => {
        delete subject(p).external_id;
      },
      notOurs,
    ],
    [
      "an empty external_id",
      "check_run.rerequested",
      (p) => {
        subject(p).external_id = "";
      },
      notOurs,
    ],
    [
      "a numeric external_id",
      "check_run.rerequested",
      (p) => {
        subject(p).external_id = 12345;
      },
      notOurs,
    ],
    [
      "an external_id of 65 characters",
      "check_run.rerequested",
      (p) => {
        subject(p).external_id = "a".repeat(65);
      },
      notOurs,
    ],
    [
      "an external_id with a slash",
      "check_run.rerequested",
      (p) => {
        subject(p).external_id = "../../runs/x";
      },
      notOurs,
    ],
    [
      "an external_id with spaces",
      "check_run.requested_action",
      (p) => {
        subject(p).external_id = "f3Q9x2 kLmN0";
      },
      notOurs,
    ],
    [
      "an external_id with a newline",
      "check_run.requested_action",
      (p) => {
        subject(p).external_id = `${RUN_ID}\n`;
      },
      notOurs,
    ],
  ])("ignores %s", (_what, name, spoil, reason) => {
    expect(normalise(name, spoil)).toEqual({ ignored: true, reason });
  });

  it.each([
    ["push", '"push" events are not check requests'],
    ["pull_request", '"pull_request" events are not check requests'],
    ["check_runs", '"check_runs" events are not check requests'],
    ["constructor", '"constructor" events are not check requests'],
    ["__proto__", '"__proto__" events are not check requests'],
    ["toString", '"toString" events are not check requests'],
    ["hasOwnProperty", '"hasOwnProperty" events are not check requests'],
  ])("ignores the event name %s", (event, reason) => {
    expect(normalise("check_run.rerequested", () => {}, event)).toEqual({ ignored: true, reason });
  });

  it.each<[string, string, (p: Json) => void, string]>([
    [
      "a head_sha that is not a SHA",
      "check_run.rerequested",
      (p) => {
        subject(p).head_sha = "main";
      },
      "check_run.head_sha is not a commit SHA",
    ],
    [
      "a short head_sha",
      "check_run.requested_action",
      (p) => {
        subject(p).head_sha = SHA.slice(0, 7);
      },
      "check_run.head_sha is not a commit SHA",
    ],
    [
      "a suite head_sha with an option",
      "check_suite.rerequested",
      (p) => {
        subject(p).head_sha = "--upload-pack=touch /tmp/x";
      },
      "check_suite.head_sha is not a commit SHA",
    ],
    [
      "no head_sha",
      "check_suite.rerequested",
      (p) => {
        delete subject(p).head_sha;
      },
      "check_suite.head_sha is not a string",
    ],
    [
      "a hostile sender login",
      "check_run.rerequested",
      (p) => {
        (p.sender as Json).login = "a;rm -rf";
      },
      "sender.login is not a GitHub login",
    ],
    [
      "a sender login with a newline",
      "check_suite.rerequested",
      (p) => {
        (p.sender as Json).login = "alice\nbob";
      },
      "sender.login is not a GitHub login",
    ],
    [
      "a sender login of 40 characters",
      "check_run.rerequested",
      (p) => {
        (p.sender as Json).login = "a".repeat(40);
      },
      "sender.login is not a GitHub login",
    ],
    [
      "no sender",
      "check_run.rerequested",
      (p) => {
        delete p.sender;
      },
      "sender.login is not a GitHub login",
    ],
    [
      "an identifier of 21 characters",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "a".repeat(21) };
      },
      "requested_action.identifier is not a button identifier",
    ],
    [
      "an identifier with spaces",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "deploy now" };
      },
      "requested_action.identifier is not a button identifier",
    ],
    [
      "an identifier with a pipe (as in GitHub's example)",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "lgtm|26764" };
      },
      "requested_action.identifier is not a button identifier",
    ],
    [
      "an empty identifier",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: "" };
      },
      "requested_action.identifier is not a button identifier",
    ],
    [
      "a numeric identifier",
      "check_run.requested_action",
      (p) => {
        p.requested_action = { identifier: 1 };
      },
      "requested_action.identifier is not a string",
    ],
    [
      "no requested_action",
      "check_run.requested_action",
      (p) => {
        delete p.requested_action;
      },
      "requested_action is not an object",
    ],
    [
      "a check_run that is a string",
      "check_run.rerequested",
      (p) => {
        p.check_run = "x";
      },
      "check_run is not an object",
    ],
    [
      "a check_suite that is an array",
      "check_suite.rerequested",
      (p) => {
        p.check_suite = [];
      },
      "check_suite is not an object",
    ],
    [
      "a string check run id",
      "check_run.rerequested",
      (p) => {
        subject(p).id = "128620228";
      },
      "check_run.id is not an integer",
    ],
    [
      "a fractional check run id",
      "check_run.requested_action",
      (p) => {
        subject(p).id = 1.5;
      },
      "check_run.id is not an integer",
    ],
    [
      "no action",
      "check_run.rerequested",
      (p) => {
        delete p.action;
      },
      "action is not a string",
    ],
    [
      "no repository",
      "check_run.rerequested",
      (p) => {
        delete p.repository;
      },
      "repository is not an object",
    ],
    [
      "a clone URL with credentials",
      "check_suite.rerequested",
      (p) => {
        (p.repository as Json).clone_url = "https://x:y@github.com/Codertocat/Hello-World.git";
      },
      "repository.clone_url must be an http(s) URL without credentials",
    ],
  ])("ignores a malformed payload: %s", (_what, name, spoil, message) => {
    expect(normalise(name, spoil)).toEqual({ ignored: true, reason: `malformed payload: ${message}` });
  });

  it.each<[string, unknown]>([
    ["a string", "nope"],
    ["null", null],
    ["undefined", undefined],
    ["a number", 42],
    ["an empty array", []],
    ["an array holding the payload", [fixture("check_run.rerequested")]],
  ])("ignores a payload that is %s", (_what, payload) => {
    for (const event of ["check_run", "check_suite", "push"]) {
      expect(normaliseCheckRequest(event, "d-1", payload, APP_ID)).toEqual({
        ignored: true,
        reason: "malformed payload: the payload is not a JSON object",
      });
    }
  });

  it("ignores a payload whose only key is an own __proto__", () => {
    const payload = JSON.parse(`{"__proto__": ${JSON.stringify(fixture("check_run.rerequested"))}}`);
    expect(normaliseCheckRequest("check_run", "d-1", payload, APP_ID)).toEqual({
      ignored: true,
      reason: "malformed payload: action is not a string",
    });
  });

  it("does not trust the payload's pull requests (empty for forks)", () => {
    const p = fixture("check_run.rerequested");
    subject(p).pull_requests = [];
    expect(normaliseCheckRequest("check_run", "d-1", p, APP_ID)).toEqual(normalise("check_run.rerequested"));
  });
});

describe("isCheckRequestAction", () => {
  it.each<[string, string | null | undefined, boolean]>([
    ["check_run", "rerequested", true],
    ["check_run", "requested_action", true],
    ["check_suite", "rerequested", true],
    ["check_run", "created", false],
    ["check_run", "completed", false],
    ["check_suite", "requested", false],
    ["check_suite", "completed", false],
    ["check_suite", "requested_action", false],
    ["check_run", "Rerequested", false],
    ["check_run", "", false],
    ["check_run", null, false],
    ["check_run", undefined, false],
    ["check_suite", undefined, false],
    ["push", "rerequested", false],
    ["pull_request", "requested_action", false],
    ["constructor", "rerequested", false],
    ["__proto__", "rerequested", false],
    ["check_run", "constructor", false],
    ["check_run", "length", false],
  ])("%s %s → %s", (name, action, expected) => {
    expect(isCheckRequestAction(name, action)).toBe(expected);
  });
});
