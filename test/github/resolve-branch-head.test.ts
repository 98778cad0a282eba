import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveBranchHead } from "../../src/github/resolve-branch-head.ts";

const API = "https://api.github.com";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const clients = {
  app: async () => new Octokit({ auth: "app-jwt", log: quiet }),
  installation: async (id: number) => new Octokit({ auth: `installation-${id}`, log: quiet }),
};
const SHA = "b".repeat(40);
const REPO = {
  name: "infra",
  full_name: "acme/infra",
  owner: { login: "acme" },
  clone_url: "https://github.com/acme/infra.git",
  private: true,
  default_branch: "trunk",
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe("resolveBranchHead", () => {
  it("asks as the App for the installation, then as the installation for the repository and branch", async () => {
    const scope = nock(API)
      .get("/repos/acme/infra/installation")
      .matchHeader("authorization", "token app-jwt")
      .reply(200, { id: 7 })
      .get("/repos/acme/infra")
      .matchHeader("authorization", "token installation-7")
      .reply(200, REPO)
      .get("/repos/acme/infra/branches/release%2F1.x")
      .matchHeader("authorization", "token installation-7")
      .reply(200, { name: "release/1.x", commit: { sha: SHA } });
    expect(await resolveBranchHead(clients, "acme/infra", "release/1.x")).toEqual({
      installationId: 7,
      repo: { owner: "acme", name: "infra", fullName: "acme/infra", cloneUrl: REPO.clone_url, private: true },
      branch: "release/1.x",
      sha: SHA,
    });
    expect(scope.isDone()).toBe(true);
  });

  it("uses the repository's default branch when the schedule names none", async () => {
    const scope = nock(API)
      .get("/repos/acme/infra/installation")
      .reply(200, { id: 7 })
      .get("/repos/acme/infra")
      .reply(200, REPO)
      .get("/repos/acme/infra/branches/trunk")
      .reply(200, { name: "trunk", commit: { sha: SHA } });
    expect(await resolveBranchHead(clients, "acme/infra", undefined)).toMatchObject({
      branch: "trunk",
      sha: SHA,
    });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ["not installed", [404, 0, 0], "the App is not installed on acme/infra"],
    ["no such branch", [200, 200, 404], "branch main does not exist in acme/infra"],
  ])("ignores a repository that is %s", async (_what, [install, repo, branch], reason) => {
    const scope = nock(API)
      .get("/repos/acme/infra/installation")
      .reply(install as number, { id: 7, message: "Not Found" });
    if (repo) scope.get("/repos/acme/infra").reply(repo, REPO);
    if (branch) scope.get("/repos/acme/infra/branches/main").reply(branch, { message: "Branch not found" });
    expect(await resolveBranchHead(clients, "acme/infra", "main")).toEqual({ ignored: true, reason });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [
      "a clone URL with credentials",
      { ...REPO, clone_url: "https://user:pw@evil.example/x.git" },
      undefined,
      /clone_url must be an http\(s\) URL without credentials/,
    ],
    [
      "a head that is not a commit SHA",
      REPO,
      { commit: { sha: "$(rm -rf ~)" } },
      /no commit for branch main/,
    ],
    [
      "a default branch that is an option",
      { ...REPO, default_branch: "--upload-pack=x" },
      undefined,
      /branch name "--upload-pack=x" starts with "-"/,
    ],
  ])("refuses GitHub's answer with %s", async (_what, repo, branch, reason) => {
    const scope = nock(API)
      .get("/repos/acme/infra/installation")
      .reply(200, { id: 7 })
      .get("/repos/acme/infra")
      .reply(200, repo);
    if (branch) scope.get("/repos/acme/infra/branches/main").reply(200, branch);
    const result = await resolveBranchHead(
      clients,
      "acme/infra",
      repo.default_branch === "trunk" ? "main" : undefined,
    );
    expect(result).toMatchObject({ ignored: true, reason: expect.stringMatching(reason) });
    expect(scope.isDone()).toBe(true);
  });

  it("throws on a server error so the tick is tried again", async () => {
    const scope = nock(API).get("/repos/acme/infra/installation").reply(502, "bad gateway");
    await expect(resolveBranchHead(clients, "acme/infra", "main")).rejects.toMatchObject({ status: 502 });
    expect(scope.isDone()).toBe(true);
  });
});
