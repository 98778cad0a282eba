/**
 * `GET /`: the dashboard, behind the page gate. Without GitHub login and without `DASHBOARD_TOKEN` there is
 * no way to tell who asks, so it is not served at all (run links stay the capability they are).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PageGate } from "../auth/page-gate.ts";
import { type Viewer, visibleRepos } from "../auth/viewer.ts";
import type { ExtraRoutes } from "../server/front-door.ts";
import { sendHtml, sendPage } from "../server/html-response.ts";
import {
  environmentSummaries,
  filterChoices,
  recentDeliveries,
  recentRuns,
} from "../store/dashboard-queries.ts";
import type { Executor } from "../store/database.ts";
import { PAGE_SIZE, parseDashboardQuery } from "./dashboard-query.ts";
import { renderDashboard } from "./render-dashboard.ts";
import { renderDashboardOff } from "./render-dashboard-off.ts";

export interface DashboardDeps {
  readonly db: Executor;
  /** Undefined: no login and no token configured. */
  readonly gate: PageGate | undefined;
  readonly now?: () => Date;
}

export function createDashboardRoutes(deps: DashboardDeps): ExtraRoutes {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendPage(res, 405, "text/plain; charset=utf-8", "Method Not Allowed\n", { allow: "GET, HEAD" });
      return true;
    }
    if (!deps.gate) {
      sendHtml(res, 404, renderDashboardOff());
      return true;
    }
    const admitted = await deps.gate(req, res);
    if (!admitted) return true;
    const html = await dashboardPage(deps, admitted.viewer, url.searchParams);
    sendHtml(res, 200, html, admitted.headers);
    return true;
  };
}

async function dashboardPage(deps: DashboardDeps, viewer: Viewer, params: URLSearchParams): Promise<string> {
  const query = parseDashboardQuery(params);
  const visible = visibleRepos(viewer);
  const runs = await recentRuns(deps.db, {
    visible,
    repo: query.repo,
    state: query.state,
    environment: query.environment,
    offset: (query.page - 1) * PAGE_SIZE,
    limit: PAGE_SIZE,
  });
  return renderDashboard({
    login: viewer.kind === "user" ? viewer.login : undefined,
    query,
    runs,
    environments: await environmentSummaries(deps.db, visible),
    deliveries: await recentDeliveries(deps.db, visible),
    choices: await filterChoices(deps.db, visible),
    now: deps.now?.() ?? new Date(),
  });
}
