/**
 * The dashboard (`GET /`): one self-contained HTML document, no scripts, every value escaped. Three parts:
 * recent runs (filter form, pagination), environments (deployed now / running / waiting), and recent
 * deliveries with what became of them and why. Readable on a phone (tables scroll sideways), labelled forms,
 * text colours with at least 4.5:1 contrast.
 */
import { formatDuration } from "../config/duration.ts";
import { escapeHtml } from "../report/escape-html.ts";
import { runDurationMs } from "../report/render-status.ts";
import type { RunRecord } from "../runs/run.ts";
import { pageHead } from "../server/html-page.ts";
import type {
  DeliverySummary,
  EnvironmentRun,
  EnvironmentSummary,
  FilterChoices,
  RunPage,
} from "../store/dashboard-queries.ts";
import { type DashboardQuery, dashboardHref, RUN_STATES } from "./dashboard-query.ts";

export interface DashboardInput {
  /** The logged-in user's login; undefined without GitHub login. */
  readonly login: string | undefined;
  readonly query: DashboardQuery;
  readonly runs: RunPage;
  readonly environments: readonly EnvironmentSummary[];
  readonly deliveries: readonly DeliverySummary[];
  readonly choices: FilterChoices;
  readonly now: Date;
}

const STYLE = `body{font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;padding:.8rem 1rem;border-bottom:1px solid #d0d7de}
header h1{font-size:1.25rem;margin:0}main{padding:0 1rem 2rem}h2{font-size:1.1rem;margin-top:1.6rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;min-width:100%}caption{text-align:left;color:#59636e;padding:.2rem 0}
td,th{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;white-space:nowrap;vertical-align:top}
td.reason{white-space:normal;min-width:16rem}code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}label{display:flex;flex-direction:column;font-weight:600;font-size:.9rem}
select,input,button{font:inherit;padding:.3rem .5rem;border:1px solid #8c959f;border-radius:6px;background:#fff;color:#1f2328}
button{cursor:pointer;background:#f6f8fa}a{color:#0550ae}:focus-visible{outline:3px solid #0969da;outline-offset:2px}
nav.pages{display:flex;gap:1rem;margin-top:.6rem}.passed{color:#116329}.failed,.timed_out,.error{color:#a40e26}
.running,.queued,.awaiting_approval,.pending{color:#7d4e00}.muted{color:#59636e}`;

export function renderDashboard(input: DashboardInput): string {
  const user = input.login
    ? `<form method="post" action="/auth/logout"><span>Signed in as <strong>${escapeHtml(input.login)}</strong></span> <button type="submit">Log out</button></form>`
    : "";
  return `${pageHead({ title: "deploy-bot", style: STYLE })}
<body>
<header><h1>deploy-bot</h1>${user}</header>
<main>
<section aria-labelledby="runs-heading">
<h2 id="runs-heading">Recent runs</h2>
${filterForm(input.query, input.choices)}
${runsTable(input.runs.runs, input.now)}
${pagination(input.query, input.runs.more)}
</section>
<section aria-labelledby="environments-heading">
<h2 id="environments-heading">Environments</h2>
${environmentsTable(input.environments, input.now)}
</section>
<section aria-labelledby="deliveries-heading">
<h2 id="deliveries-heading">Recent deliveries</h2>
${deliveriesTable(input.deliveries, input.now)}
</section>
</main>
</body>
</html>
`;
}

function options(values: readonly string[], selected: string | undefined, all: string): string {
  const choices = [`<option value="">${all}</option>`];
  for (const value of values) {
    const mark = value === selected ? " selected" : "";
    choices.push(`<option value="${escapeHtml(value)}"${mark}>${escapeHtml(value)}</option>`);
  }
  return choices.join("");
}

export function filterForm(query: DashboardQuery, choices: FilterChoices): string {
  // An environment that no run has (yet) stays selectable, so the form shows what the URL says. A repository
  // is offered only when the viewer can see it: the page never names one it does not list.
  const repos = choices.repos;
  const environments =
    query.environment && !choices.environments.includes(query.environment)
      ? [query.environment, ...choices.environments]
      : choices.environments;
  return `<form class="filters" method="get" action="/">
<label for="f-repo">Repository<select id="f-repo" name="repo">${options(repos, query.repo, "All repositories")}</select></label>
<label for="f-state">State<select id="f-state" name="state">${options(RUN_STATES, query.state, "All states")}</select></label>
<label for="f-environment">Environment<select id="f-environment" name="environment">${options(environments, query.environment, "All environments")}</select></label>
<button type="submit">Filter</button>
</form>`;
}

const shortSha = (sha: string) => sha.slice(0, 7);

function branchOrPr(run: RunRecord): string {
  const event = run.event;
  if (event.kind === "pull_request")
    return `#${event.prNumber} ${escapeHtml(event.branch)} → ${escapeHtml(event.baseBranch)}`;
  return escapeHtml(event.branch ?? (event.tag ? `tag ${event.tag}` : event.ref));
}

function trigger(run: RunRecord): string {
  const event = run.event;
  const what = event.kind === "pull_request" ? `pull_request ${event.action}` : "push";
  return `${escapeHtml(what)} <span class="muted">by ${escapeHtml(event.sender)}</span>`;
}

export function runRow(run: RunRecord, now: Date): string {
  const duration = run.startedAt ? formatDuration(runDurationMs(run, now)) : "—";
  return `<tr><td>${escapeHtml(run.event.repo.fullName)}</td><td><a href="/runs/${escapeHtml(run.id)}">${escapeHtml(run.pipeline)}</a></td><td>${escapeHtml(run.environment ?? "—")}</td><td>${branchOrPr(run)}</td><td><code>${escapeHtml(shortSha(run.event.sha))}</code></td><td>${trigger(run)}</td><td class="${run.state}">${escapeHtml(run.state.replace("_", " "))}</td><td>${duration}</td><td>${ago(run.createdAt, now)}</td></tr>`;
}

function runsTable(runs: readonly RunRecord[], now: Date): string {
  if (runs.length === 0) return `<p class="muted">No runs match.</p>`;
  return `<div class="scroll"><table>
<caption>Newest first</caption>
<thead><tr><th scope="col">Repository</th><th scope="col">Pipeline</th><th scope="col">Environment</th><th scope="col">Branch or PR</th><th scope="col">Commit</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Duration</th><th scope="col">Created</th></tr></thead>
<tbody>
${runs.map((run) => runRow(run, now)).join("\n")}
</tbody>
</table></div>`;
}

function pagination(query: DashboardQuery, more: boolean): string {
  const links: string[] = [];
  if (query.page > 1)
    links.push(
      `<a href="${escapeHtml(dashboardHref(query, { page: query.page - 1 }))}" rel="prev">Newer runs</a>`,
    );
  if (more)
    links.push(
      `<a href="${escapeHtml(dashboardHref(query, { page: query.page + 1 }))}" rel="next">Older runs</a>`,
    );
  return links.length === 0 ? "" : `<nav class="pages" aria-label="Pages of runs">${links.join("")}</nav>`;
}

function envRun(run: EnvironmentRun, now: Date): string {
  return `<a href="/runs/${escapeHtml(run.id)}"><code>${escapeHtml(shortSha(run.sha))}</code></a> ${escapeHtml(run.pipeline)} <span class="muted">${ago(run.at, now)}</span>`;
}

export function environmentRow(env: EnvironmentSummary, now: Date): string {
  const list = (runs: readonly EnvironmentRun[]) =>
    runs.length === 0 ? "—" : runs.map((run) => envRun(run, now)).join("<br>");
  return `<tr><td>${escapeHtml(env.repo)}</td><td>${escapeHtml(env.environment)}</td><td>${env.deployed ? envRun(env.deployed, now) : "—"}</td><td>${list(env.running)}</td><td>${list(env.waiting)}</td></tr>`;
}

function environmentsTable(environments: readonly EnvironmentSummary[], now: Date): string {
  if (environments.length === 0) return `<p class="muted">No pipeline with an environment has run yet.</p>`;
  return `<div class="scroll"><table>
<thead><tr><th scope="col">Repository</th><th scope="col">Environment</th><th scope="col">Deployed now</th><th scope="col">Running</th><th scope="col">Waiting</th></tr></thead>
<tbody>
${environments.map((env) => environmentRow(env, now)).join("\n")}
</tbody>
</table></div>`;
}

/** What became of a delivery, in words: `accepted: 2 runs`, `ignored: branch "x" does not match …`. */
export function deliveryOutcome(delivery: DeliverySummary): string {
  if (delivery.outcome === "ignored") return `ignored: ${delivery.reason ?? "no reason recorded"}`;
  const runs = `${delivery.runs} ${delivery.runs === 1 ? "run" : "runs"}`;
  const awaiting = delivery.awaitingApproval > 0 ? `, ${delivery.awaitingApproval} awaiting approval` : "";
  return `accepted: ${runs}${awaiting}`;
}

export function deliveryRow(delivery: DeliverySummary, now: Date): string {
  const ref = delivery.ref ? escapeHtml(delivery.ref.replace(/^refs\/(heads|tags)\//, "")) : "—";
  const sha = delivery.sha ? `<code>${escapeHtml(shortSha(delivery.sha))}</code>` : "—";
  return `<tr><td>${ago(delivery.receivedAt, now)}</td><td>${escapeHtml(delivery.eventName)}</td><td>${escapeHtml(delivery.repo ?? "—")}</td><td>${ref}</td><td>${sha}</td><td class="reason ${delivery.outcome}">${escapeHtml(deliveryOutcome(delivery))}</td></tr>`;
}

function deliveriesTable(deliveries: readonly DeliverySummary[], now: Date): string {
  if (deliveries.length === 0) return `<p class="muted">No deliveries yet.</p>`;
  return `<div class="scroll"><table>
<caption>Every webhook delivery, and why it ran what it ran (or nothing)</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Event</th><th scope="col">Repository</th><th scope="col">Ref</th><th scope="col">Commit</th><th scope="col">Outcome</th></tr></thead>
<tbody>
${deliveries.map((delivery) => deliveryRow(delivery, now)).join("\n")}
</tbody>
</table></div>`;
}

/** `<time>` with the exact instant and a short relative text: `12s ago`, `3m ago`, `2h ago`, `4d ago`. */
export function ago(at: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  const text =
    seconds < 60
      ? `${seconds}s ago`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)}m ago`
        : seconds < 86_400
          ? `${Math.floor(seconds / 3600)}h ago`
          : `${Math.floor(seconds / 86_400)}d ago`;
  return `<time datetime="${at.toISOString()}">${text}</time>`;
}
