/**
 * What the dashboard reads: recent runs (filtered, paged), each environment's deployed / running / waiting
 * runs, and recent deliveries with their outcome and reason. Every query takes the viewer's repositories
 * (lower-cased `owner/name`; undefined = all) and never returns a row of any other repository.
 */
import type { RunRecord, RunState } from "../runs/run.ts";
import type { Executor, Row } from "./database.ts";
import { loadRuns } from "./load-runs.ts";

export interface RunFilter {
  /** The viewer's repositories; undefined = all. */
  readonly visible: readonly string[] | undefined;
  readonly repo?: string | undefined;
  readonly state?: RunState | undefined;
  readonly environment?: string | undefined;
  readonly offset: number;
  readonly limit: number;
}

export interface RunPage {
  readonly runs: readonly RunRecord[];
  /** True when there are runs after this page. */
  readonly more: boolean;
}

export interface EnvironmentRun {
  readonly id: string;
  readonly pipeline: string;
  readonly sha: string;
  readonly state: RunState;
  readonly at: Date;
}

export interface EnvironmentSummary {
  readonly repo: string;
  readonly environment: string;
  /** The newest run of this environment that passed: what is deployed now. */
  readonly deployed: EnvironmentRun | undefined;
  readonly running: readonly EnvironmentRun[];
  /** Queued or awaiting approval. */
  readonly waiting: readonly EnvironmentRun[];
}

export interface DeliverySummary {
  readonly id: string;
  readonly eventName: string;
  readonly repo: string | null;
  readonly sha: string | null;
  readonly ref: string | null;
  readonly outcome: "planned" | "ignored";
  readonly reason: string | null;
  readonly runs: number;
  readonly awaitingApproval: number;
  readonly receivedAt: Date;
}

export interface FilterChoices {
  readonly repos: readonly string[];
  readonly environments: readonly string[];
}

/** `$1` is the visible list as JSON (or null for all); `column` is compared lower-cased. */
const VISIBLE = (column: string) =>
  `($1::jsonb IS NULL OR lower(${column}) IN (SELECT jsonb_array_elements_text($1::jsonb)))`;
const visibleParam = (visible: readonly string[] | undefined) =>
  visible === undefined ? null : JSON.stringify(visible.map((repo) => repo.toLowerCase()));

export async function recentRuns(db: Executor, filter: RunFilter): Promise<RunPage> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM runs
     WHERE ${VISIBLE("repo")}
       AND ($2::text IS NULL OR lower(repo) = lower($2::text))
       AND ($3::text IS NULL OR state = $3::text)
       AND ($4::text IS NULL OR environment = $4::text)
     ORDER BY seq DESC LIMIT $5 OFFSET $6`,
    [
      visibleParam(filter.visible),
      filter.repo ?? null,
      filter.state ?? null,
      filter.environment ?? null,
      filter.limit + 1,
      filter.offset,
    ],
  );
  const ids = rows.slice(0, filter.limit).map((row) => row.id);
  return { runs: await loadRuns(db, ids), more: rows.length > filter.limit };
}

interface EnvironmentRow extends Row {
  id: string;
  repo: string;
  environment: string;
  pipeline: string;
  sha: string;
  state: RunState;
  at: Date;
  kind: "deployed" | "running" | "waiting";
}

export async function environmentSummaries(
  db: Executor,
  visible: readonly string[] | undefined,
  limit = 100,
): Promise<EnvironmentSummary[]> {
  const rows = await db.query<EnvironmentRow>(
    `SELECT * FROM (
       SELECT DISTINCT ON (repo, environment) id, repo, environment, pipeline, sha, state,
              finished_at AS at, 'deployed' AS kind
       FROM runs WHERE environment IS NOT NULL AND state = 'passed' AND ${VISIBLE("repo")}
       ORDER BY repo, environment, finished_at DESC
     ) deployed
     UNION ALL
     SELECT * FROM (
       SELECT id, repo, environment, pipeline, sha, state, COALESCE(started_at, created_at) AS at,
              CASE WHEN state = 'running' THEN 'running' ELSE 'waiting' END AS kind
       FROM runs
       WHERE environment IS NOT NULL AND state IN ('running', 'queued', 'awaiting_approval') AND ${VISIBLE("repo")}
       ORDER BY seq DESC LIMIT $2
     ) going`,
    [visibleParam(visible), limit * 4],
  );
  const byKey = new Map<
    string,
    {
      repo: string;
      environment: string;
      deployed?: EnvironmentRun;
      running: EnvironmentRun[];
      waiting: EnvironmentRun[];
    }
  >();
  for (const row of rows) {
    const key = `${row.repo}\u0000${row.environment}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = { repo: row.repo, environment: row.environment, running: [], waiting: [] };
      byKey.set(key, entry);
    }
    const run: EnvironmentRun = {
      id: row.id,
      pipeline: row.pipeline,
      sha: row.sha,
      state: row.state,
      at: new Date(row.at),
    };
    if (row.kind === "deployed") entry.deployed = run;
    else entry[row.kind].push(run);
  }
  return [...byKey.values()]
    .sort((a, b) => a.repo.localeCompare(b.repo) || a.environment.localeCompare(b.environment))
    .slice(0, limit)
    .map((entry) => ({ ...entry, deployed: entry.deployed }));
}

export async function recentDeliveries(
  db: Executor,
  visible: readonly string[] | undefined,
  limit = 25,
): Promise<DeliverySummary[]> {
  const rows = await db.query<{
    id: string;
    event_name: string;
    repo: string | null;
    sha: string | null;
    ref: string | null;
    outcome: "planned" | "ignored";
    reason: string | null;
    runs: number | string;
    awaiting: number | string;
    received_at: Date;
  }>(
    `SELECT d.id, d.event_name, d.repo, d.sha, d.event->>'ref' AS ref, d.outcome, d.reason, d.received_at,
            (SELECT count(*) FROM runs r WHERE r.delivery_id = d.id) AS runs,
            (SELECT count(*) FROM runs r WHERE r.delivery_id = d.id AND r.state = 'awaiting_approval') AS awaiting
     FROM deliveries d
     WHERE ${VISIBLE("d.repo")}
     ORDER BY d.received_at DESC, d.id LIMIT $2`,
    [visibleParam(visible), limit],
  );
  return rows.map((row) => ({
    id: row.id,
    eventName: row.event_name,
    repo: row.repo,
    sha: row.sha,
    ref: row.ref,
    outcome: row.outcome,
    reason: row.reason,
    runs: Number(row.runs),
    awaitingApproval: Number(row.awaiting),
    receivedAt: new Date(row.received_at),
  }));
}

/** Repositories and environments that have runs, for the filter form. */
export async function filterChoices(
  db: Executor,
  visible: readonly string[] | undefined,
): Promise<FilterChoices> {
  const repos = await db.query<{ repo: string }>(
    `SELECT DISTINCT repo FROM runs WHERE ${VISIBLE("repo")} ORDER BY repo LIMIT 500`,
    [visibleParam(visible)],
  );
  const environments = await db.query<{ environment: string }>(
    `SELECT DISTINCT environment FROM runs WHERE environment IS NOT NULL AND ${VISIBLE("repo")}
     ORDER BY environment LIMIT 500`,
    [visibleParam(visible)],
  );
  return { repos: repos.map((r) => r.repo), environments: environments.map((r) => r.environment) };
}
