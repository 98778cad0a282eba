import { describe, expect, it } from "vitest";
import { ZERO_SHA } from "../../src/events/deploy-event.ts";
import { normaliseEvent } from "../../src/events/normalise.ts";
import { fixture } from "../fixtures/fixtures.ts";

/** The parts of a payload the tests edit. */
interface Payload {
  [key: string]: unknown;
  repository: { clone_url: string };
  pull_request: { head: { ref: string; sha: string; repo: unknown }; base: { ref: string } };
}

const normalise = (name: string, payload: unknown) =>
  normaliseEvent(name.split(".")[0] as string, "d-1", payload);
const from = (name: string, edit: (p: Payload) => void = () => {}) => {
  const payload = fixture(name) as unknown as Payload;
  edit(payload);
  return normalise(name, payload);
};

describe("push", () => {
  it("a branch push becomes a PushEvent with the union of the commits' files", () => {
    expect(from("push.branch")).toEqual({
      kind: "push",
      action: "push",
      deliveryId: "d-1",
      repo: {
        owner: "Codertocat",
        name: "Hello-World",
        fullName: "Codertocat/Hello-World",
        cloneUrl: "https://github.com/Codertocat/Hello-World.git",
        private: false,
      },
      installationId: 1,
      sha: "8a4f56a3c1dcf2ad86ba3e5e3f1d5c5d1e9c2b7a",
      ref: "refs/heads/main",
      branch: "main",
      tag: undefined,
      before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      fork: false,
      changedFiles: { known: true, files: ["src/app.js", "package.json", "README.md", "docs/old.md"] },
      sender: "Codertocat",
    });
  });

  it("a tag push sets tag, never branch", () => {
    expect(from("push.tag")).toMatchObject({ branch: undefined, tag: "v1.0.0", ref: "refs/tags/v1.0.0" });
  });

  it.each([
    ["push.branch-created", {}, "new branch"],
    ["push.tag", {}, "new tag"],
    ["push.forced", {}, "forced push"],
    [
      "push.branch",
      { commits: Array.from({ length: 2048 }, () => ({ added: ["a"], modified: [], removed: [] })) },
      "2048 commits: GitHub lists at most 2048",
    ],
    ["push.branch", { commits: [] }, "no commits in the payload"],
  ])("%s %j: changed files unknown (%s)", (name, edit, reason) => {
    expect(from(name, (p) => Object.assign(p, edit))).toMatchObject({
      changedFiles: { known: false, reason },
    });
  });

  it("2047 commits are complete", () => {
    const commits = Array.from({ length: 2047 }, (_, i) => ({
      added: [`f${i % 3}`],
      modified: [],
      removed: [],
    }));
    expect(from("push.branch", (p) => Object.assign(p, { commits }))).toMatchObject({
      changedFiles: { known: true, files: ["f0", "f1", "f2"] },
    });
  });

  it.each([
    ["push.deleted", {}, 'tag "simple-tag" was deleted'],
    ["push.branch-deleted", {}, 'branch "feature" was deleted'],
    ["push.branch", { after: ZERO_SHA }, 'branch "main" was deleted'],
    [
      "push.branch",
      { ref: "refs/notes/commits" },
      'push to "refs/notes/commits", which is neither a branch nor a tag',
    ],
    ["push.branch", { ref: "refs/heads/-x" }, 'branch name "-x" starts with "-"'],
    ["push.branch", { ref: "refs/heads/a/../b" }, 'branch name "a/../b" contains ".."'],
    ["push.branch", { ref: "refs/heads/a\nb" }, 'branch name "a\\nb" contains a control character'],
    ["push.branch", { ref: "refs/tags/v1\u0000" }, 'tag name "v1\\u0000" contains a control character'],
    ["push.branch", { ref: 42 }, "malformed payload: ref is not a string"],
    ["push.branch", { after: "not-a-sha" }, "malformed payload: after is not a commit SHA"],
    ["push.branch", { commits: "x" }, "malformed payload: commits is not an array"],
    [
      "push.branch",
      { commits: [{ added: [1], modified: [], removed: [] }] },
      "malformed payload: commits[0].added holds a non-string",
    ],
    ["push.branch", { repository: null }, "malformed payload: repository is not an object"],
  ])("%s %j is ignored: %s", (name, edit, reason) => {
    expect(from(name, (p) => Object.assign(p, edit))).toEqual({ ignored: true, reason });
  });

  it("refuses clone URLs with credentials or odd schemes", () => {
    expect(from("push.branch", (p) => (p.repository.clone_url = "https://x:y@github.com/a/b.git"))).toEqual({
      ignored: true,
      reason: "malformed payload: repository.clone_url must be an http(s) URL without credentials",
    });
    expect(from("push.branch", (p) => (p.repository.clone_url = "file:///etc"))).toMatchObject({
      ignored: true,
    });
  });

  it.each([null, 7, "text", [], {}])("never throws on garbage: %j", (payload) => {
    expect(normalise("push", payload)).toMatchObject({
      ignored: true,
      reason: expect.stringMatching(/^malformed payload: /),
    });
  });
});

describe("pull_request", () => {
  it("opened becomes a PullRequestEvent whose files must be listed", () => {
    expect(from("pull_request.opened")).toEqual({
      kind: "pull_request",
      action: "opened",
      deliveryId: "d-1",
      repo: {
        owner: "Codertocat",
        name: "Hello-World",
        fullName: "Codertocat/Hello-World",
        cloneUrl: "https://github.com/Codertocat/Hello-World.git",
        private: false,
      },
      installationId: 1,
      sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      ref: "refs/pull/2/head",
      prNumber: 2,
      branch: "changes",
      tag: undefined,
      baseBranch: "main",
      title: "Update the README with new information.",
      draft: false,
      fork: false,
      headRepoFullName: "Codertocat/Hello-World",
      labels: ["bug"],
      changedFiles: { known: false, reason: "listed through the API" },
      sender: "Codertocat",
    });
  });

  it("a head repository other than the base is a fork", () => {
    expect(from("pull_request.opened-fork")).toMatchObject({
      fork: true,
      headRepoFullName: "octo-fork/Hello-World",
      sender: "octo-fork",
    });
  });

  it("a deleted head repository counts as a fork", () => {
    expect(from("pull_request.opened", (p) => (p.pull_request.head.repo = null))).toMatchObject({
      fork: true,
      headRepoFullName: "(deleted repository)",
    });
  });

  it.each(["opened", "synchronize", "reopened", "ready_for_review", "labeled", "converted_to_draft"])(
    "%s is kept",
    (action) => {
      expect(from(`pull_request.${action}`)).toMatchObject({ kind: "pull_request", action });
    },
  );

  it("drafts are kept (rules decide)", () => {
    expect(from("pull_request.opened-draft")).toMatchObject({ draft: true });
  });

  it.each([
    ["pull_request.closed", {}, "pull request #2 is closed"],
    ["pull_request.assigned", {}, 'pull request action "assigned" never triggers a rule'],
    ["pull_request.opened", { action: "locked" }, 'pull request action "locked" never triggers a rule'],
    ["pull_request.opened", { number: "2" }, "malformed payload: number is not an integer"],
    ["pull_request.opened", { pull_request: [] }, "malformed payload: pull_request is not an object"],
  ])("%s %j is ignored: %s", (name, edit, reason) => {
    expect(from(name, (p) => Object.assign(p, edit))).toEqual({ ignored: true, reason });
  });

  it.each([
    [
      (p: Payload) => (p.pull_request.head.ref = "--upload-pack=x"),
      'head branch name "--upload-pack=x" starts with "-"',
    ],
    [(p: Payload) => (p.pull_request.base.ref = "../../etc"), 'base branch name "../../etc" contains ".."'],
    [
      (p: Payload) => (p.pull_request.head.sha = "HEAD"),
      "malformed payload: pull_request.head.sha is not a commit SHA",
    ],
  ])("hostile refs are ignored (%#)", (edit, reason) => {
    expect(from("pull_request.opened", edit)).toEqual({ ignored: true, reason });
  });
});

describe("other events", () => {
  it.each(["issue_comment", "check_run", "ping"])("%s is ignored", (name) => {
    expect(normaliseEvent(name, "d", {})).toEqual({
      ignored: true,
      reason: `"${name}" events do not trigger pipelines`,
    });
  });
});
