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

  describe("answers of the fake (deliveries API)", () => {
    const item = {
      id: 1,
      guid: "g",
      delivered_at: "2026-12-02T11:00:00Z",
      redelivery: false,
      duration: 0.1,
      status: "OK",
      status_code: 202,
      event: "push",
      action: null,
      installation_id: 1,
      repository_id: null,
    };
    it("accepts GitHub's shapes", () => {
      expect(checker.checkResponse("GET", "/api/v3/app/hook/deliveries", 200, [item])).toMatchObject({
        ok: true,
      });
      const detail = {
        ...item,
        url: "u",
        request: { headers: {}, payload: {} },
        response: { headers: {}, payload: null },
      };
      expect(checker.checkResponse("GET", "/app/hook/deliveries/1", 200, detail)).toMatchObject({ ok: true });
    });
    it.each([
      ["/app/hook/deliveries", 200, [{ ...item, guid: undefined }], /must have required property 'guid'/],
      ["/app/hook/deliveries", 200, [{ ...item, id: "1" }], /must be integer/],
      ["/app/hook/deliveries/1", 200, item, /must have required property 'request'/],
      ["/app/hook/deliveries/1", 418, {}, /has no 418 answer/],
    ])("refuses %s %s %j", (path, status, body, reason) => {
      const verdict = checker.checkResponse("GET", path, status, body);
      expect(verdict.ok ? "" : verdict.reason).toMatch(reason);
    });
  });
});
