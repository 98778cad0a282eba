import { describe, expect, it } from "vitest";
import { ghesChecker } from "./openapi.ts";

const SHA = "a".repeat(40);

describe("the GHES OpenAPI checker", () => {
  const checker = ghesChecker();

  it.each([
    ["POST", `/api/v3/repos/acme/app/statuses/${SHA}`, { state: "success", context: "deploy-bot/test" }],
    ["POST", "/api/v3/app/installations/7/access_tokens", { repositories: ["app"] }],
    ["POST", "/api/v3/app/installations/7/access_tokens", undefined],
    ["GET", "/api/v3/repos/acme/app/issues/2/comments?per_page=100", undefined],
    ["PATCH", "/api/v3/repos/acme/app/issues/comments/12", { body: "hi" }],
    ["GET", "/api/v3/repos/acme/app/collaborators/octocat/permission", undefined],
    [
      "POST",
      "/api/v3/repos/acme/app/deployments",
      {
        ref: SHA,
        task: "deploy",
        auto_merge: false,
        required_contexts: [],
        payload: { run_id: "r", pipeline: "deploy", delivery_id: "d" },
        environment: "production",
        description: "deploy-bot: deploy at aaaaaaa",
        transient_environment: false,
        production_environment: true,
      },
    ],
    [
      "POST",
      "/api/v3/repos/acme/app/deployments/5/statuses",
      {
        state: "in_progress",
        description: "Running",
        log_url: "https://bot/runs/r",
        environment_url: "https://x/",
      },
    ],
    [
      "GET",
      `/api/v3/repos/acme/app/deployments?sha=${SHA}&environment=production&task=deploy&per_page=100`,
      undefined,
    ],
  ])("accepts %s %s", (method, path, body) => {
    expect(checker.check(method, path, body)).toMatchObject({ ok: true });
  });

  it("names the operation it matched, preferring literal segments", () => {
    expect(checker.check("GET", "/api/v3/repos/acme/app/pulls/2/files", undefined)).toEqual({
      ok: true,
      operationId: "pulls/list-files",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    });
  });

  it.each([
    ["GET", "/api/v3/repos/acme/app/no-such-thing", undefined, /no path of the description matches/],
    ["DELETE", `/api/v3/repos/acme/app/statuses/${SHA}`, undefined, /DELETE is not an operation/],
    ["POST", `/api/v3/repos/acme/app/statuses/${SHA}`, { state: "green" }, /must be equal to one of/],
    [
      "POST",
      "/api/v3/repos/acme/app/deployments/5/statuses",
      { state: "running" },
      /must be equal to one of/,
    ],
    ["POST", `/api/v3/repos/acme/app/statuses/${SHA}`, undefined, /a request body is required/],
    ["POST", "/api/v3/repos/acme/app/issues/2/comments", { text: "no body" }, /must have required property/],
    [
      "POST",
      "/api/v3/app/installations/7/access_tokens",
      { permissions: { contents: "all" } },
      /contents must be equal to one of/,
    ],
  ])("refuses %s %s %j", (method, path, body, reason) => {
    const verdict = checker.check(method, path, body);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? "" : verdict.reason).toMatch(reason);
  });
});
