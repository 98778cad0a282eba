import { describe, expect, it } from "vitest";
import { compileGlob, globMatches } from "../../src/match/glob.ts";
import { listMatches, patternListProblem } from "../../src/match/pattern-list.ts";

// Examples from GitHub's "Filter pattern cheat sheet".
describe("globMatches (GitHub Actions cheat sheet)", () => {
  it.each([
    ["feature/*", "feature/my-branch", true],
    ["feature/*", "feature/your/branch", false],
    ["feature/**", "feature/beta-a/my-branch", true],
    ["main", "main", true],
    ["main", "main2", false],
    ["*", "main", true],
    ["*", "releases/10", false],
    ["**", "releases/10", true],
    ["**", "all/the/branches", true],
    ["*feature", "mona-feature", true],
    ["*feature", "feature", true],
    ["*feature", "ver-10-feature", true],
    ["v2*", "v2", true],
    ["v2*", "v2.9", true],
    ["v[12].[0-9]+.[0-9]+", "v1.10.1", true],
    ["v[12].[0-9]+.[0-9]+", "v2.0.0", true],
    ["v[12].[0-9]+.[0-9]+", "v3.0.0", false],
    ["v[12].[0-9]+.[0-9]+", "v1x0.0", false],
    ["*.jsx?", "page.js", true],
    ["*.jsx?", "page.jsx", true],
    ["*.jsx?", "dir/page.js", false],
    ["**.js", "index.js", true],
    ["**.js", "src/js/app.js", true],
    ["docs/*", "docs/README.md", true],
    ["docs/*", "docs/a/b.md", false],
    ["docs/**", "docs/mona/octocat.txt", true],
    ["docs/**/*.md", "docs/README.md", true],
    ["docs/**/*.md", "docs/mona/hello-world.md", true],
    ["docs/**/*.md", "docs/a/markdown/file.md", true],
    ["**/docs/**", "docs/hello.md", true],
    ["**/docs/**", "dir/docs/my-file.txt", true],
    ["**/docs/**", "space/docs/plan/space.doc", true],
    ["**/README.md", "README.md", true],
    ["**/README.md", "js/README.md", true],
    ["**/*src/**", "a/src/app.js", true],
    ["**/*src/**", "my-src/code/js/app.js", true],
    ["**/*-post.md", "my-post.md", true],
    ["**/*-post.md", "path/their-post.md", true],
    ["**/migrate-*.sql", "migrate-10909.sql", true],
    ["**/migrate-*.sql", "db/migrate-v1.0.sql", true],
    ["**/migrate-*.sql", "db/sept/migrate-v1.sql", true],
    ["*.md", "docs/hello.md", false],
    ["a+b", "aaab", true],
    ["a+b", "b", false],
    ["\\*literal", "*literal", true],
    ["\\*literal", "xliteral", false],
    ["release.1", "releasex1", false],
    ["(x)|y", "(x)|y", true],
  ])("%s vs %s → %s", (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it("is case-sensitive unless asked", () => {
    expect(globMatches("Main", "main")).toBe(false);
    expect(globMatches("acme/*", "ACME/Web", true)).toBe(true);
  });

  it("reports malformed globs instead of throwing", () => {
    expect(compileGlob("v[12")).toEqual({ ok: false, error: 'unclosed "[" in pattern "v[12"' });
    expect(compileGlob("a\\")).toEqual({ ok: false, error: 'pattern "a\\" ends with "\\"' });
    expect(globMatches("v[12", "v1")).toBe(false);
  });

  it("compiles each pattern once", () => {
    expect(compileGlob("src/**")).toBe(compileGlob("src/**"));
  });
});

describe("listMatches: ! negation, last match wins", () => {
  it.each([
    [["*.md", "!README.md"], "hello.md", true],
    [["*.md", "!README.md"], "README.md", false],
    [["*.md", "!README.md"], "docs/hello.md", false],
    [["*.md", "!README.md", "README*"], "README.md", true],
    [["*.md", "!README.md", "README*"], "README.doc", true],
    [["!README.md", "*.md"], "README.md", true],
    [["releases/**", "!releases/**-alpha"], "releases/10", true],
    [["releases/**", "!releases/**-alpha"], "releases/beta/3-alpha", false],
    [[], "anything", false],
  ])("%j vs %s → %s", (patterns, value, expected) => {
    expect(listMatches(patterns, value)).toBe(expected);
  });

  it.each([
    [["!main"], 'a list of only "!" patterns matches nothing: put a positive pattern such as "**" first'],
    [["main", "!"], 'pattern "!" is empty'],
    [["v[0-9"], 'unclosed "[" in pattern "v[0-9"'],
    [["main", "!dev"], undefined],
  ])("patternListProblem(%j) = %s", (patterns, problem) => {
    expect(patternListProblem(patterns)).toBe(problem);
  });
});
