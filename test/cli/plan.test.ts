import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "../fixtures/fixtures.ts";
import { runCli } from "./run-cli.ts";

const planJson = async (args: string[], env: Record<string, string> = {}) => {
  const result = await runCli(["plan", ...args, "--json"], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
};

describe("deploy-bot plan with the checked-in deploy.config.yaml and the fixtures", () => {
  it.each([
    ["push", "push.branch", ["test", "deploy-staging"]],
    ["push", "push.branch-docs-only", []],
    ["push", "push.branch-created", ["test", "deploy-staging"]],
    ["push", "push.forced", ["test", "deploy-staging"]],
    ["push", "push.tag", ["test", "deploy-production"]],
    ["push", "push.deleted", []],
    ["pull_request", "pull_request.closed", []],
    ["pull_request", "pull_request.assigned", []],
  ])("--event %s --payload %s → pipelines %j", async (event, fixture, pipelines) => {
    const out = await planJson(["--event", event, "--payload", fixturePath(fixture)]);
    expect(out.pipelines).toEqual(pipelines);
  });

  it("--json has pipelines, runs, matched, unmatched, ignored and event", async () => {
    const out = await planJson([
      "--event",
      "push",
      "--payload",
      fixturePath("push.branch"),
      "--delivery",
      "abc",
    ]);
    expect(out).toEqual({
      pipelines: ["test", "deploy-staging"],
      runs: [
        { pipeline: "test", needs: [], environment: null, forks: "approve" },
        { pipeline: "deploy-staging", needs: ["test"], environment: "staging", forks: "approve" },
      ],
      matched: [{ rule: "deploy main to staging", pipelines: ["test", "deploy-staging"] }],
      unmatched: [
        { rule: "test pull requests", reason: "the rule has no push trigger" },
        { rule: "release to production", reason: 'branch push "main", but the rule only filters tags' },
      ],
      ignored: null,
      event: expect.objectContaining({
        name: "push",
        deliveryId: "abc",
        repo: "Codertocat/Hello-World",
        installationId: 1,
        branch: "main",
        sha: "8a4f56a3c1dcf2ad86ba3e5e3f1d5c5d1e9c2b7a",
        changedFiles: { known: true, files: ["src/app.js", "package.json", "README.md", "docs/old.md"] },
      }),
    });
  });

  it("an ignored event still prints an object with an empty pipelines list", async () => {
    const out = await planJson(["--event", "push", "--payload", fixturePath("push.deleted")]);
    expect(out).toEqual({
      pipelines: [],
      runs: [],
      matched: [],
      unmatched: [],
      ignored: 'tag "simple-tag" was deleted',
      event: { name: "push" },
    });
  });

  it("prints the plan for people", async () => {
    const result = await runCli(["plan", "--event", "push", "--payload", fixturePath("push.branch-created")]);
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "event: push to branch main of Codertocat/Hello-World at 6113728 (delivery cli)",
        "changed files: unknown (new branch)",
        "",
        "matched rules:",
        "  deploy main to staging → test, deploy-staging",
        "    note: changed files unknown (new branch): paths-ignore filter not applied",
        "",
        "runs, in order:",
        "  1. test",
        "  2. deploy-staging (needs test; environment staging)",
        "",
        "rules not matched:",
        "  test pull requests: the rule has no push trigger",
        '  release to production: branch push "main", but the rule only filters tags',
        "",
      ].join("\n"),
    });
  });

  it("a pull request filtered on paths without files or token: exit 1, saying how to pass them", async () => {
    const result = await runCli([
      "plan",
      "--event",
      "pull_request",
      "--payload",
      fixturePath("pull_request.opened"),
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'deploy-bot plan: rule "test pull requests" filters on paths, so the plan needs the files changed by pull request #2.\n' +
        "Pass them with --files a,b or --files-from <file> (one path a line), or set GITHUB_TOKEN to list them through the GitHub API.\n",
    });
  });

  it.each([
    [["--files", "src/app.js,README.md"], ["test"]],
    [["--files", "README.md,docs/a.md"], []],
  ])("pull request with %j → %j", async (files, pipelines) => {
    const out = await planJson([
      "--event",
      "pull_request",
      "--payload",
      fixturePath("pull_request.opened"),
      ...files,
    ]);
    expect(out.pipelines).toEqual(pipelines);
  });

  it("--files-from reads one path a line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-plan-"));
    const list = join(dir, "files.txt");
    writeFileSync(list, "docs/a.md\n\nsrc/index.ts\n");
    const out = await planJson([
      "--event",
      "pull_request",
      "--payload",
      fixturePath("pull_request.opened-fork"),
      "--files-from",
      list,
    ]);
    expect(out.pipelines).toEqual(["test"]);
    expect(out.event).toMatchObject({
      fork: true,
      headRepo: "octo-fork/Hello-World",
      changedFiles: { known: true, files: ["docs/a.md", "src/index.ts"] },
    });
  });

  it("--config picks another file; an invalid config exits 1 with positioned errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-plan-"));
    const config = join(dir, "c.yaml");
    writeFileSync(config, "version: 1\npipelines: {}\nrules:\n  - {name: r, on: {push: }, run: [nope]}\n");
    const result = await runCli([
      "plan",
      "--event",
      "push",
      "--payload",
      fixturePath("push.branch"),
      "--config",
      config,
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `${config}:4:35: rules[0].run[0]: unknown pipeline "nope"\n`,
    });
  });

  it.each([
    [["plan"], 2, "plan needs --event and --payload"],
    [["plan", "--event", "push"], 2, "plan needs --event and --payload"],
    [
      ["plan", "--event", "push", "--payload", "x", "--files", "a", "--files-from", "b"],
      2,
      "give either --files or --files-from",
    ],
    [
      ["plan", "--event", "push", "--payload", "/nonexistent.json"],
      1,
      "cannot read the payload /nonexistent.json",
    ],
  ])("%j exits %i", async (args, code, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
  });
});

describe("deploy-bot plan listing pull request files through the API (GHE_HOST on 127.0.0.1)", () => {
  let server: Server;
  let host: string;
  const requests: { url: string | undefined; auth: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      requests.push({ url: req.url, auth: req.headers.authorization });
      if (req.url?.startsWith("/api/v3/repos/Codertocat/Hello-World/pulls/2/files")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify([{ filename: "src/app.js", status: "modified" }]));
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Not Found" }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("says so on stderr and plans with the listed files", async () => {
    const result = await runCli(
      ["plan", "--event", "pull_request", "--payload", fixturePath("pull_request.opened"), "--json"],
      {
        GITHUB_TOKEN: "t0ken",
        GHE_HOST: host,
        GHE_PROTOCOL: "http",
      },
    );
    expect(result.stderr).toBe(
      `listing the files of Codertocat/Hello-World#2 through the GitHub API (http://${host}/api/v3) for rule "test pull requests"\n`,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).pipelines).toEqual(["test"]);
    expect(requests).toEqual([
      { url: "/api/v3/repos/Codertocat/Hello-World/pulls/2/files?per_page=100", auth: "token t0ken" },
    ]);
  });

  it("an API failure exits 1", async () => {
    const result = await runCli(
      ["plan", "--event", "pull_request", "--payload", fixturePath("pull_request.opened")],
      {
        GITHUB_TOKEN: "t0ken",
        GHE_HOST: `${host}/nowhere`,
        GHE_PROTOCOL: "http",
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("deploy-bot plan: cannot list the files of pull request #2: Not Found");
  });
});

describe("deploy-bot plan with a manual gate", () => {
  it("shows that the manual pipeline waits for its deploy command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-bot-plan-manual-"));
    const config = join(dir, "deploy.config.yaml");
    writeFileSync(
      config,
      `version: 1
pipelines:
  test:
    steps: [{ name: Unit tests, run: npm test }]
  deploy-production:
    environment: production
    manual: true
    steps: [{ name: Deploy, run: ./deploy.sh }]
rules:
  - name: release main
    on: { push: { branches: [main] } }
    run: [test, deploy-production]
`,
    );
    const result = await runCli([
      "plan",
      "--event",
      "push",
      "--payload",
      fixturePath("push.branch"),
      "--config",
      config,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "  2. deploy-production (needs test; environment production; manual: waits for /deploy-bot deploy production)\n",
    );
    const json = await planJson([
      "--event",
      "push",
      "--payload",
      fixturePath("push.branch"),
      "--config",
      config,
    ]);
    expect(json.runs[1]).toMatchObject({ pipeline: "deploy-production", manual: true });
  });
});
