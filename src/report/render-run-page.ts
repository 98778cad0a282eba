/**
 * The run page (`GET /runs/:id`): one self-contained HTML document — inline CSS, no scripts, no external
 * assets — that shows what ran and its (already masked) logs. Every value is HTML-escaped. While the run is
 * not final the page reloads itself with `<meta http-equiv="refresh">`.
 */
import { formatDuration } from "../config/duration.ts";
import { FINAL_RUN_STATES, type RunRecord, type StepRecord } from "../runs/run.ts";
import { pageHead } from "../server/html-page.ts";
import { linkableEnvironmentUrl } from "./environment-link.ts";
import { escapeHtml } from "./escape-html.ts";
import { renderStatus, runDurationMs } from "./render-status.ts";

export interface RunPageInput {
  readonly run: RunRecord;
  /** Masked log text by step index; a step without an entry shows "No output". */
  readonly logs: ReadonlyMap<number, string>;
  readonly now: Date;
  /** Reload interval while the run is not final; default 5 seconds. */
  readonly refreshSeconds?: number;
  /**
   * While the run is not final: the page loads `scriptPath`, which streams new log output from `eventsUrl`
   * (logs after `afterSeq`, the last row shown); the meta refresh is kept for browsers without JavaScript.
   */
  readonly live?: { readonly scriptPath: string; readonly eventsUrl: string };
}

const STYLE = `body{font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
dd{margin:0}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2rem .6rem;text-align:left}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
.passed{color:#1a7f37}.failed,.timed_out,.error{color:#cf222e}.running,.queued,.pending{color:#9a6700}`;

/** The HTML run page; `refreshSeconds` only matters while the run is still going. */
export function renderRunPage(input: RunPageInput): string {
  const { run, now } = input;
  const event = run.event;
  const final = FINAL_RUN_STATES.has(run.state);
  const live = final ? undefined : input.live;
  const meta = `<meta http-equiv="refresh" content="${Math.max(1, Math.floor(input.refreshSeconds ?? 5))}">`;
  const refresh = final
    ? ""
    : live
      ? `\n<noscript>${meta}</noscript>\n<script src="${escapeHtml(live.scriptPath)}" defer></script>`
      : `\n${meta}`;
  const status = renderStatus(run, [run], now);
  const facts: [string, string][] = [
    ["Repository", event.repo.fullName],
    [
      "Event",
      event.kind === "pull_request"
        ? `pull_request ${event.action} #${event.prNumber}`
        : event.kind === "schedule"
          ? `schedule (rule ${event.rule}, tick ${event.tick})`
          : "push",
    ],
    ["Ref", event.ref],
    ["Branch", event.branch ?? event.tag ?? ""],
    ["Commit", event.sha],
    ["Pipeline", run.pipeline],
    ["Environment", run.environment ?? "—"],
    ["State", run.state],
    ["Detail", status.description],
    ["Duration", run.startedAt ? formatDuration(runDurationMs(run, now)) : "—"],
  ];
  const title = `${run.pipeline} · ${event.repo.fullName} · deploy-bot`;
  return `${pageHead({ title, style: STYLE, extra: refresh })}
<body${live ? ` data-live="${escapeHtml(live.eventsUrl)}"` : ""}>
<h1>${escapeHtml(run.pipeline)} <span class="${run.state}">${escapeHtml(run.state)}</span></h1>
<dl>
${facts.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v)}</dd>`).join("\n")}${environmentUrlFact(run.environmentUrl)}
</dl>
<h2>Steps</h2>
${run.steps.length === 0 ? "<p>No steps have started.</p>" : stepsTable(run.steps, now)}
${run.steps.map((step) => stepLog(step, input.logs.get(step.index), live !== undefined)).join("\n")}
</body>
</html>
`;
}

/** The environment URL a step reported, as a link (`rel=noreferrer`: the run page's address is a capability). */
function environmentUrlFact(url: string | null | undefined): string {
  const link = linkableEnvironmentUrl(url);
  if (!link) return "";
  const href = escapeHtml(link);
  return `\n<dt>Environment URL</dt><dd><a href="${href}" rel="noopener noreferrer">${href}</a></dd>`;
}

/** The page for an unknown run id; says nothing about which ids exist. */
export function renderRunNotFound(): string {
  return `${pageHead({ title: "Run not found · deploy-bot", style: STYLE })}
<body>
<h1>Run not found</h1>
<p>There is no run at this address. Run links are only valid as given in a commit status or pull request comment.</p>
</body>
</html>
`;
}

function stepsTable(steps: readonly StepRecord[], now: Date): string {
  const rows = steps.map((step) => {
    const duration = step.startedAt
      ? formatDuration((step.finishedAt ?? now).getTime() - step.startedAt.getTime())
      : "—";
    const exit = step.exitCode === null ? "" : ` (exit ${step.exitCode})`;
    return `<tr><td>${step.index + 1}</td><td><a href="#step-${step.index}">${escapeHtml(step.name)}</a></td><td class="${step.state}">${step.state}${exit}</td><td>${duration}</td></tr>`;
  });
  return `<table>\n<tr><th>#</th><th>Step</th><th>State</th><th>Duration</th></tr>\n${rows.join("\n")}\n</table>`;
}

function stepLog(step: StepRecord, log: string | undefined, live: boolean): string {
  const empty = log === undefined || log === "";
  const body = empty ? "No output" : log;
  const marks = live ? ` data-step="${step.index}"${empty ? " data-empty" : ""}` : "";
  return `<h3 id="step-${step.index}">${escapeHtml(step.name)}</h3>\n<pre${marks}>${escapeHtml(body)}</pre>`;
}
