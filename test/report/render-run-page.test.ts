import { describe, expect, it } from "vitest";
import { renderRunNotFound, renderRunPage } from "../../src/report/render-run-page.ts";
import { at, prEvent, run, step } from "./fixtures.ts";

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
