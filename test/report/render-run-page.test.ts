import { describe, expect, it } from "vitest";
import { scheduleEvent } from "../../src/events/schedule-event.ts";
import { renderRunNotFound, renderRunPage } from "../../src/report/render-run-page.ts";
import { at, prEvent, pushEvent, run, step } from "./fixtures.ts";

const hostile = prEvent({ branch: "<script>alert(1)</script>", ref: "refs/pull/7/head" });
const running = run({
  id: "r",
  event: hostile,
  pipeline: "test & <b>",
  environment: "preview",
  state: "running",
  startedAt: at(0),
  steps: [
    step(0, "Install", { state: "passed", exitCode: 0, startedAt: at(0), finishedAt: at(12) }),
    step(1, "Unit <tests>", { state: "running", startedAt: at(12) }),
  ],
});

describe("renderRunPage", () => {
  it("escapes everything and refreshes while the run is going", () => {
    const html = renderRunPage({
      run: running,
      logs: new Map([[1, 'ok <img src=x onerror=alert(1)> & "quoted"\n']]),
      now: at(30),
      refreshSeconds: 3,
    });
    expect(html).toContain('<meta http-equiv="refresh" content="3">');
    expect(html).toContain("<dt>Branch</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>");
    expect(html).toContain("<dt>Event</dt><dd>pull_request opened #7</dd>");
    expect(html).toContain("<dt>Commit</dt><dd>1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b</dd>");
    expect(html).toContain("<dt>Environment</dt><dd>preview</dd>");
    expect(html).toContain("<dt>Detail</dt><dd>Running: Unit &lt;tests&gt; (2/2)</dd>");
    expect(html).toContain(
      '<tr><td>1</td><td><a href="#step-0">Install</a></td><td class="passed">passed (exit 0)</td><td>12s</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>2</td><td><a href="#step-1">Unit &lt;tests&gt;</a></td><td class="running">running</td><td>18s</td></tr>',
    );
    expect(html).toContain('<h3 id="step-0">Install</h3>\n<pre>No output</pre>');
    expect(html).toContain(
      '<h3 id="step-1">Unit &lt;tests&gt;</h3>\n<pre>ok &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;\n</pre>',
    );
    expect(html).not.toMatch(/<script|<img|src=["']?http|<link/);
  });

  it("links the environment URL a step reported, without a referrer", () => {
    const html = renderRunPage({
      run: { ...running, environmentUrl: 'https://preview.example.com/?a="b"&c=<d>' },
      logs: new Map(),
      now: at(30),
    });
    expect(html).toContain("<dt>Environment</dt><dd>preview</dd>\n<dt>State</dt><dd>running</dd>");
    expect(html).toContain(
      '<dt>Environment URL</dt><dd><a href="https://preview.example.com/?a=&quot;b&quot;&amp;c=&lt;d&gt;" rel="noopener noreferrer">https://preview.example.com/?a=&quot;b&quot;&amp;c=&lt;d&gt;</a></dd>\n</dl>',
    );
  });

  it.each([null, "javascript:alert(1)", "data:text/html,x"])("shows no link for %s", (environmentUrl) => {
    const html = renderRunPage({ run: { ...running, environmentUrl }, logs: new Map(), now: at(30) });
    expect(html).not.toContain("Environment URL");
    expect(html).not.toContain("javascript:");
  });

  it("stops refreshing once the run is final", () => {
    const html = renderRunPage({
      run: { ...running, state: "passed", finishedAt: at(40) },
      logs: new Map(),
      now: at(50),
    });
    expect(html).not.toContain("http-equiv");
    expect(html).toContain("<dt>Duration</dt><dd>40s</dd>");
  });
});

describe("renderRunNotFound", () => {
  it("is a plain page that reveals nothing", () => {
    const html = renderRunNotFound();
    expect(html).toContain("<title>Run not found · deploy-bot</title>");
    expect(html).toContain("<h1>Run not found</h1>");
  });
});

describe("renderRunPage of a scheduled tick", () => {
  it("names the rule and the tick, escaped", () => {
    const base = pushEvent();
    const event = scheduleEvent({
      deliveryId: "schedule:drift <check>:acme/infra:2025-01-01T12:00:00.000Z",
      rule: "drift <check>",
      cron: "*/15 * * * *",
      tick: at(0),
      repo: base.repo,
      installationId: 1,
      branch: "main",
      sha: base.sha,
    });
    const html = renderRunPage({ run: run({ event }), logs: new Map(), now: at(1) });
    expect(html).toContain(
      "<dt>Event</dt><dd>schedule (rule drift &lt;check&gt;, tick 2025-01-01T12:00:00.000Z)</dd>",
    );
    expect(html).toContain("<dt>Ref</dt><dd>refs/heads/main</dd>");
  });
});

describe("renderRunPage, live", () => {
  const live = { scriptPath: "/runs/live.js", eventsUrl: "/runs/r/events?after=41" };

  it("loads the live-log script while the run goes, keeping the refresh for browsers without JavaScript", () => {
    const html = renderRunPage({ run: running, logs: new Map([[0, "installed\n"]]), now: at(30), live });
    expect(html).toContain(
      '<noscript><meta http-equiv="refresh" content="5"></noscript>\n<script src="/runs/live.js" defer></script>',
    );
    expect(html).toContain('<body data-live="/runs/r/events?after=41">');
    expect(html).toContain('<h3 id="step-0">Install</h3>\n<pre data-step="0">installed\n</pre>');
    expect(html).toContain(
      '<h3 id="step-1">Unit &lt;tests&gt;</h3>\n<pre data-step="1" data-empty>No output</pre>',
    );
  });

  it("is a plain page once the run is final", () => {
    const html = renderRunPage({
      run: { ...running, state: "passed", finishedAt: at(40) },
      logs: new Map(),
      now: at(50),
      live,
    });
    expect(html).not.toContain("<script");
    expect(html).not.toContain("data-live");
    expect(html).not.toContain("refresh");
  });
});
