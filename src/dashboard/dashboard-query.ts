/**
 * The dashboard's URL query (`?repo=&state=&environment=&page=`), read once: anything malformed, oversized or
 * unknown is dropped (the filter is simply not applied), never passed on.
 */
import type { RunState } from "../runs/run.ts";

export interface DashboardQuery {
  readonly repo: string | undefined;
  readonly state: RunState | undefined;
  readonly environment: string | undefined;
  /** 1-based. */
  readonly page: number;
}

const STATE_SET: Record<RunState, true> = {
  awaiting_approval: true,
  waiting: true,
  queued: true,
  running: true,
  passed: true,
  failed: true,
  timed_out: true,
  cancelled: true,
  superseded: true,
  interrupted: true,
  skipped: true,
  error: true,
};
/** Every run state, in lifecycle order (the filter's choices). */
export const RUN_STATES = Object.keys(STATE_SET) as readonly RunState[];

export const PAGE_SIZE = 25;
export const MAX_PAGE = 400;
const REPO = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const ENVIRONMENT = /^[^\u0000-\u001f\u007f]{1,255}$/;

export function parseDashboardQuery(params: URLSearchParams): DashboardQuery {
  const repo = params.get("repo") ?? "";
  const state = params.get("state") ?? "";
  const environment = params.get("environment") ?? "";
  const page = Number(params.get("page") ?? "1");
  return {
    repo: REPO.test(repo) ? repo : undefined,
    state: Object.hasOwn(STATE_SET, state) ? (state as RunState) : undefined,
    environment: ENVIRONMENT.test(environment) ? environment : undefined,
    page: Number.isInteger(page) && page >= 1 && page <= MAX_PAGE ? page : 1,
  };
}

/** The query string for `query` with `changes` applied; unset values are left out. */
export function dashboardHref(query: DashboardQuery, changes: Partial<DashboardQuery> = {}): string {
  const next = { ...query, ...changes };
  const params = new URLSearchParams();
  if (next.repo) params.set("repo", next.repo);
  if (next.state) params.set("state", next.state);
  if (next.environment) params.set("environment", next.environment);
  if (next.page > 1) params.set("page", String(next.page));
  const text = params.toString();
  return text ? `/?${text}` : "/";
}
