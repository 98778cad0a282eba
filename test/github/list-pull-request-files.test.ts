import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { listPullRequestFiles } from "../../src/github/list-pull-request-files.ts";

const octokit = () =>
  new Octokit({ auth: "test-token", log: { debug() {}, info() {}, warn() {}, error() {} } });
const PATH = "/repos/Codertocat/Hello-World/pulls/2/files";
const file = (filename: string, extra: Record<string, unknown> = {}) => ({
  filename,
  status: "modified",
  ...extra,
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe("listPullRequestFiles", () => {
  it("follows the Link header across pages and includes the old name of a renamed file", async () => {
    const scope = nock("https://api.github.com")
      .get(PATH)
      .query({ per_page: "100" })
      .reply(
        200,
        [file("src/a.ts"), file("src/new.ts", { status: "renamed", previous_filename: "src/old.ts" })],
        {
          Link: `<https://api.github.com${PATH}?per_page=100&page=2>; rel="next", <https://api.github.com${PATH}?per_page=100&page=2>; rel="last"`,
        },
      )
      .get(PATH)
      .query({ per_page: "100", page: "2" })
      .reply(200, [file("docs/readme.md"), file("src/a.ts")]);
    const files = await listPullRequestFiles(octokit(), {
      owner: "Codertocat",
      repo: "Hello-World",
      pullNumber: 2,
    });
    expect(files).toEqual({ known: true, files: ["src/a.ts", "src/new.ts", "src/old.ts", "docs/readme.md"] });
    expect(scope.isDone()).toBe(true);
  });

  it("says the files are unknown at GitHub's 3,000-file cap", async () => {
    const page = (n: number) => Array.from({ length: 100 }, (_, i) => file(`f/${n}-${i}`));
    let scope = nock("https://api.github.com");
    for (let n = 1; n <= 30; n++) {
      const next: Record<string, string> =
        n < 30 ? { Link: `<https://api.github.com${PATH}?per_page=100&page=${n + 1}>; rel="next"` } : {};
      scope = scope
        .get(PATH)
        .query(n === 1 ? { per_page: "100" } : { per_page: "100", page: String(n) })
        .reply(200, page(n), next);
    }
    const files = await listPullRequestFiles(octokit(), {
      owner: "Codertocat",
      repo: "Hello-World",
      pullNumber: 2,
    });
    expect(files).toEqual({
      known: false,
      reason: "the pull request changes 3000 files or more: GitHub lists at most 3000",
    });
    expect(scope.isDone()).toBe(true);
  });

  it("lets API errors through (the caller decides: the bot breaking is not a pipeline failing)", async () => {
    const scope = nock("https://api.github.com").get(PATH).query(true).reply(404, { message: "Not Found" });
    await expect(
      listPullRequestFiles(octokit(), { owner: "Codertocat", repo: "Hello-World", pullNumber: 2 }),
    ).rejects.toMatchObject({ status: 404 });
    expect(scope.isDone()).toBe(true);
  });
});
