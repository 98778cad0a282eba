import { describe, expect, it } from "vitest";
import { parseDashboardQuery } from "../../src/dashboard/dashboard-query.ts";
import {
  ago,
  deliveryOutcome,
  deliveryRow,
  environmentRow,
  filterForm,
  renderDashboard,
  runRow,
} from "../../src/dashboard/render-dashboard.ts";
import type { RunRecord } from "../../src/runs/run.ts";
import type { DeliverySummary } from "../../src/store/dashboard-queries.ts";
import { pullRequestEvent, pushEvent } from "../queue/fixtures.ts";

const NOW = new Date("2026-12-02T12:00:00Z");
const at = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000);

const runOf = (overrides: Partial<RunRecord>): RunRecord => ({
  id: "RunIdRunIdRunId0001",
  deliveryId: "d1",
  pipeline: "deploy",
  environment: "production",
  needs: [],
  state: "passed",
  detail: null,
  event: pushEvent({ sha: "1234567890abcdef1234567890abcdef12345678", sender: "octocat" }),
  steps: [],
  createdAt: at(100),
  startedAt: at(90),
  finishedAt: at(20),
  ...overrides,
});

const delivery = (overrides: Partial<DeliverySummary>): DeliverySummary => ({
  id: "d1",
  eventName: "push",
  repo: "acme/app",
  sha: "abcdef1234567890abcdef1234567890abcdef12",
  ref: "refs/heads/feature/x",
  outcome: "ignored",
  reason: 'branch "feature/x" does not match branches [main]',
  runs: 0,
  awaitingApproval: 0,
  receivedAt: at(5),
  ...overrides,
});

describe("the dashboard", () => {
  it("renders a run row: repository, pipeline (linked), environment, branch, short SHA, trigger, state, duration", () => {
    expect(runRow(runOf({}), NOW)).toBe(
      '<tr><td>acme/app</td><td><a href="/runs/RunIdRunIdRunId0001">deploy</a></td><td>production</td><td>main</td><td><code>1234567</code></td><td>push <span class="muted">by octocat</span></td><td class="passed">passed</td><td>1m 10s</td><td><time datetime="2026-12-02T11:58:20.000Z">1m ago</time></td></tr>',
    );
  });

  it("renders a pull request's run with its number, head and base", () => {
    const run = runOf({
      event: pullRequestEvent({ prNumber: 7, branch: "feature", action: "opened" }),
      state: "awaiting_approval",
      startedAt: null,
      finishedAt: null,
      environment: null,
    });
    expect(runRow(run, NOW)).toContain("<td>#7 feature → main</td>");
    expect(runRow(run, NOW)).toContain('<td class="awaiting_approval">awaiting approval</td><td>—</td>');
    expect(runRow(run, NOW)).toContain("pull_request opened");
  });

  it("escapes everything that came from GitHub", () => {
    const evil = '<img src=x onerror="alert(1)">';
    const run = runOf({
      pipeline: evil,
      environment: evil,
      event: pushEvent({ branch: evil, sender: evil }),
    });
    const html = runRow(run, NOW);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(deliveryRow(delivery({ reason: evil, repo: evil, eventName: evil }), NOW)).not.toContain("<img");
    const form = filterForm(parseDashboardQuery(new URLSearchParams()), {
      repos: [evil],
      environments: [evil],
    });
    expect(form).not.toContain("<img");
  });

  it.each([
    [delivery({}), 'ignored: branch "feature/x" does not match branches [main]'],
    [delivery({ outcome: "planned", reason: null, runs: 2 }), "accepted: 2 runs"],
    [
      delivery({ outcome: "planned", reason: null, runs: 1, awaitingApproval: 1 }),
      "accepted: 1 run, 1 awaiting approval",
    ],
    [delivery({ reason: null }), "ignored: no reason recorded"],
  ])("says what became of a delivery: %#", (summary, text) => {
    expect(deliveryOutcome(summary)).toBe(text);
  });

  it("renders a delivery row with its reason", () => {
    expect(deliveryRow(delivery({}), NOW)).toBe(
      '<tr><td><time datetime="2026-12-02T11:59:55.000Z">5s ago</time></td><td>push</td><td>acme/app</td><td>feature/x</td><td><code>abcdef1</code></td><td class="reason ignored">ignored: branch &quot;feature/x&quot; does not match branches [main]</td></tr>',
    );
  });

  it("renders an environment: deployed now, running, waiting", () => {
    const row = environmentRow(
      {
        repo: "acme/app",
        environment: "production",
        deployed: {
          id: "RunA0000000000000001",
          pipeline: "deploy",
          sha: "a".repeat(40),
          state: "passed",
          at: at(3600),
        },
        running: [
          {
            id: "RunB0000000000000001",
            pipeline: "deploy",
            sha: "b".repeat(40),
            state: "running",
            at: at(30),
          },
        ],
        waiting: [],
      },
      NOW,
    );
    expect(row).toBe(
      '<tr><td>acme/app</td><td>production</td><td><a href="/runs/RunA0000000000000001"><code>aaaaaaa</code></a> deploy <span class="muted"><time datetime="2026-12-02T11:00:00.000Z">1h ago</time></span></td><td><a href="/runs/RunB0000000000000001"><code>bbbbbbb</code></a> deploy <span class="muted"><time datetime="2026-12-02T11:59:30.000Z">30s ago</time></span></td><td>—</td></tr>',
    );
  });

  it("keeps the filters selected and offers every state", () => {
    const form = filterForm(parseDashboardQuery(new URLSearchParams("repo=acme/app&state=failed")), {
      repos: ["acme/app", "acme/infra"],
      environments: ["production"],
    });
    expect(form).toContain(
      '<option value="acme/app" selected>acme/app</option><option value="acme/infra">acme/infra</option>',
    );
    expect(form).toContain('<option value="failed" selected>failed</option>');
    expect(form).toContain('<label for="f-state">State<select id="f-state" name="state">');
  });

  it("links newer and older pages, and shows who is signed in with a logout form", () => {
    const html = renderDashboard({
      login: "octocat",
      query: parseDashboardQuery(new URLSearchParams("state=passed&page=2")),
      runs: { runs: [runOf({})], more: true },
      environments: [],
      deliveries: [],
      choices: { repos: [], environments: [] },
      now: NOW,
    });
    expect(html).toContain(
      '<nav class="pages" aria-label="Pages of runs"><a href="/?state=passed" rel="prev">Newer runs</a><a href="/?state=passed&amp;page=3" rel="next">Older runs</a></nav>',
    );
    expect(html).toContain(
      '<form method="post" action="/auth/logout"><span>Signed in as <strong>octocat</strong></span> <button type="submit">Log out</button></form>',
    );
    expect(html).not.toContain("<script");
  });

  it.each([
    [0, "0s ago"],
    [59, "59s ago"],
    [60, "1m ago"],
    [7200, "2h ago"],
    [86_400 * 3, "3d ago"],
    [-10, "0s ago"],
  ])("says %i seconds ago as %s", (seconds, text) => {
    expect(ago(at(seconds), NOW)).toContain(`>${text}</time>`);
  });
});
