import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitHubUserApi, TokenRejected } from "../../src/auth/github-user.ts";

const GHE = "https://ghe.example";
const api = (apiUrl: string) =>
  createGitHubUserApi({ clientId: "Iv1.abc", clientSecret: "shh-client-secret", apiUrl });

describe("GitHub as the logged-in user sees it", () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it("sends the browser to the Enterprise web host, or github.com", () => {
    expect(api(`${GHE}/api/v3`).authorizeUrl("st4te", "https://bot.example/auth/callback")).toBe(
      `${GHE}/login/oauth/authorize?allow_signup=true&client_id=Iv1.abc&redirect_uri=https%3A%2F%2Fbot.example%2Fauth%2Fcallback&state=st4te`,
    );
    expect(api("https://api.github.com").authorizeUrl("s", "https://b/auth/callback")).toMatch(
      /^https:\/\/github\.com\/login\/oauth\/authorize\?/,
    );
  });

  it("exchanges the code on the Enterprise web host (not the API path)", async () => {
    const scope = nock(GHE)
      .post("/login/oauth/access_token", {
        client_id: "Iv1.abc",
        client_secret: "shh-client-secret",
        code: "c0de",
        redirect_uri: "https://bot.example/auth/callback",
      })
      .reply(200, { access_token: "ghu_user", token_type: "bearer", scope: "" });
    expect(await api(`${GHE}/api/v3`).exchangeCode("c0de", "https://bot.example/auth/callback")).toBe(
      "ghu_user",
    );
    expect(scope.isDone()).toBe(true);
  });

  it("refuses a code GitHub answers with an error (200 + error, as GitHub does)", async () => {
    const scope = nock(GHE).post("/login/oauth/access_token").reply(200, {
      error: "bad_verification_code",
      error_description: "The code passed is incorrect or expired.",
    });
    await expect(
      api(`${GHE}/api/v3`).exchangeCode("used", "https://bot.example/auth/callback"),
    ).rejects.toThrow(/incorrect or expired/);
    expect(scope.isDone()).toBe(true);
  });

  it("revokes a token with the App's client credentials; an already revoked one is no error", async () => {
    const basic = `basic ${Buffer.from("Iv1.abc:shh-client-secret").toString("base64")}`;
    const scope = nock(`${GHE}/api/v3`, { reqheaders: { authorization: basic } })
      .delete("/applications/Iv1.abc/token", { access_token: "ghu_user" })
      .reply(204)
      .delete("/applications/Iv1.abc/token", { access_token: "ghu_gone" })
      .reply(404, { message: "Not Found" })
      .delete("/applications/Iv1.abc/token", { access_token: "ghu_down" })
      .reply(500, { message: "oops" });
    const github = api(`${GHE}/api/v3`);
    await github.revokeToken("ghu_user");
    await github.revokeToken("ghu_gone");
    await expect(github.revokeToken("ghu_down")).rejects.toMatchObject({ status: 500 });
    expect(scope.isDone()).toBe(true);
  });

  it("lists readable repositories through the user's installations, every page", async () => {
    const scope = nock(`${GHE}/api/v3`, { reqheaders: { authorization: "token ghu_user" } })
      .get("/user/installations")
      .query({ per_page: 100 })
      .reply(200, { total_count: 2, installations: [{ id: 1 }, { id: 2 }] })
      .get("/user/installations/1/repositories")
      .query({ per_page: 100 })
      .reply(
        200,
        { total_count: 2, repositories: [{ full_name: "acme/app" }] },
        { link: `<${GHE}/api/v3/user/installations/1/repositories?per_page=100&page=2>; rel="next"` },
      )
      .get("/user/installations/1/repositories")
      .query({ per_page: 100, page: 2 })
      .reply(200, { total_count: 2, repositories: [{ full_name: "acme/infra" }] })
      .get("/user/installations/2/repositories")
      .query({ per_page: 100 })
      .reply(200, { total_count: 1, repositories: [{ full_name: "octocat/hello" }] });
    expect(await api(`${GHE}/api/v3`).readableRepos("ghu_user")).toEqual([
      "acme/app",
      "acme/infra",
      "octocat/hello",
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it("tells a token GitHub rejects (401) from other failures", async () => {
    const scope = nock(`${GHE}/api/v3`)
      .get("/user")
      .reply(401, { message: "Bad credentials" })
      .get("/user/installations")
      .query(true)
      .reply(500, { message: "boom" });
    await expect(api(`${GHE}/api/v3`).login("ghu_old")).rejects.toBeInstanceOf(TokenRejected);
    const failure = await api(`${GHE}/api/v3`)
      .readableRepos("ghu_x")
      .catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(TokenRejected);
    expect(scope.isDone()).toBe(true);
  });
});
