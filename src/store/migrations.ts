/**
 * The store's schema, as plain versioned SQL that runs unchanged on PGlite and PostgreSQL. Append new
 * versions; never edit one that has shipped.
 */
import type { Database } from "./database.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "deliveries, runs, steps, logs, workers",
    sql: `
CREATE TABLE deliveries (
  id text PRIMARY KEY,
  event_name text NOT NULL,
  event jsonb,
  repo text,
  sha text,
  outcome text NOT NULL CHECK (outcome IN ('planned', 'ignored')),
  reason text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_received ON deliveries (received_at);

CREATE TABLE runs (
  seq bigserial UNIQUE,
  id text PRIMARY KEY,
  delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  repo text NOT NULL,
  ref_key text NOT NULL,
  sha text NOT NULL,
  pr_number integer,
  pipeline text NOT NULL,
  environment text,
  needs jsonb NOT NULL DEFAULT '[]',
  state text NOT NULL,
  detail text,
  worker_id text,
  job_queue text,
  job_id text,
  retry_of text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX runs_delivery ON runs (delivery_id);
CREATE INDEX runs_pending ON runs (repo, pipeline, ref_key) WHERE state IN ('queued', 'awaiting_approval');
CREATE INDEX runs_running ON runs (worker_id) WHERE state = 'running';
CREATE INDEX runs_approval ON runs (repo, pr_number, sha) WHERE state = 'awaiting_approval';
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE steps (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx integer NOT NULL,
  name text NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  exit_code integer,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, idx)
);

CREATE TABLE logs (
  seq bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_index integer NOT NULL,
  text text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX logs_run ON logs (run_id, step_index, seq);

CREATE TABLE workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz
);
`,
  },
  {
    version: 2,
    name: "outbox",
    sql: `
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  payload jsonb,
  version integer NOT NULL DEFAULT 1,
  attempts integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  failed_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, key)
);
CREATE INDEX outbox_due ON outbox (due_at) WHERE failed_at IS NULL;
`,
  },
  {
    version: 3,
    name: "environment URL per run, GitHub Deployment per run",
    sql: `
ALTER TABLE runs ADD COLUMN environment_url text;

CREATE TABLE run_deployments (
  run_id text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  deployment_id bigint,
  create_started_at timestamptz,
  last_status text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 6,
    name: "catch-up walk state; process groups of running steps",
    sql: `
CREATE TABLE catch_up (
  id integer PRIMARY KEY CHECK (id = 1),
  walked_until timestamptz,
  lease_owner text,
  lease_until timestamptz
);
INSERT INTO catch_up (id) VALUES (1);

CREATE TABLE step_processes (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  pgid integer NOT NULL,
  host text NOT NULL,
  boot_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, pgid)
);
CREATE INDEX step_processes_host ON step_processes (host);
`,
  },
  {
    version: 7,
    name: "auth revocations: logged-out sessions and used login states",
    sql: `
CREATE TABLE auth_revocations (
  id text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX auth_revocations_expiry ON auth_revocations (expires_at);
`,
  },
  {
    version: 9,
    name: "what GitHub was last told: a status per run, the comment per pull request",
    sql: `
CREATE TABLE report_statuses (
  run_id text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  state text NOT NULL,
  description text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE report_comments (
  repo text NOT NULL,
  pr_number integer NOT NULL,
  comment_id bigint NOT NULL,
  body_sha256 text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, pr_number)
);
CREATE INDEX runs_pull_request ON runs (lower(repo), pr_number, seq) WHERE pr_number IS NOT NULL;
`,
  },
  {
    version: 4,
    name: "manual runs waiting for a deploy command, rollbacks, command deliveries",
    sql: `
ALTER TABLE runs ADD COLUMN manual boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN rollback_of text;
CREATE INDEX runs_waiting ON runs (repo, environment, sha) WHERE state = 'waiting';
CREATE INDEX runs_deployed ON runs (repo, environment, finished_at) WHERE state = 'passed' AND environment IS NOT NULL;
CREATE INDEX runs_at_sha ON runs (repo, sha);
`,
  },
  {
    version: 10,
    name: "what GitHub was last told as a check run, per run",
    sql: `
CREATE TABLE report_checks (
  run_id text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  check_run_id bigint,
  create_started boolean NOT NULL DEFAULT false,
  completed boolean NOT NULL DEFAULT false,
  replaced_check_run_id bigint,
  body_sha256 text,
  sent_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
];

/** Any 64-bit constant works; it only has to be the same in every process of deploy-bot. */
const MIGRATION_LOCK = 7_204_455_310_001;

/**
 * Applies the migrations this database has not seen, in one transaction. The transaction-scoped advisory
 * lock makes two processes starting together on one PostgreSQL take turns: the second sees the versions
 * the first recorded and does nothing. Returns the versions applied.
 */
export async function runMigrations(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
