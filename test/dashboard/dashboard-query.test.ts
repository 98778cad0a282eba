import { describe, expect, it } from "vitest";
import { dashboardHref, parseDashboardQuery } from "../../src/dashboard/dashboard-query.ts";

const parse = (query: string) => parseDashboardQuery(new URLSearchParams(query));

describe("the dashboard's query", () => {
  it("reads the filters and the page", () => {
    expect(parse("repo=acme/app&state=failed&environment=production&page=3")).toEqual({
      repo: "acme/app",
      state: "failed",
      environment: "production",
      page: 3,
    });
    expect(parse("")).toEqual({ repo: undefined, state: undefined, environment: undefined, page: 1 });
  });

  it.each([
    ["repo=acme", "repo"],
    ["repo=../etc/passwd", "repo"],
    ["repo=acme/app' OR 1=1 --", "repo"],
    [`repo=${"a".repeat(101)}/b`, "repo"],
    ["state=constructor", "state"],
    ["state=__proto__", "state"],
    ["state=PASSED", "state"],
    ["environment=a%0Ab", "environment"],
    [`environment=${"e".repeat(256)}`, "environment"],
  ])("drops a malformed filter: %s", (query, key) => {
    expect(parse(query)[key as "repo"]).toBeUndefined();
  });

  it.each(["page=0", "page=-1", "page=1.5", "page=abc", "page=401", "page=1e9"])(
    "reads %s as page 1",
    (query) => {
      expect(parse(query).page).toBe(1);
    },
  );

  it("builds links that keep the filters", () => {
    const query = parse("repo=acme/app&state=failed&page=2");
    expect(dashboardHref(query, { page: 3 })).toBe("/?repo=acme%2Fapp&state=failed&page=3");
    expect(dashboardHref(query, { page: 1 })).toBe("/?repo=acme%2Fapp&state=failed");
    expect(dashboardHref(parse(""))).toBe("/");
  });
});
