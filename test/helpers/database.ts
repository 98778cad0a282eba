/**
 * Database fixtures for tests: embedded PGlite in a temp dir, and a throwaway database on the local
 * PostgreSQL (127.0.0.1:5432, user postgres, trust auth) when one is reachable.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export const PG_HOST_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";
export const PG_SKIP_REASON = "PostgreSQL not reachable at 127.0.0.1:5432";

/**
 * Whether a PostgreSQL answers at `PG_HOST_URL` (checked once per test file). CI sets
 * `DEPLOYBOT_REQUIRE_POSTGRES=1`: there an unreachable server fails the suite instead of skipping it.
 */
export async function postgresReachable(): Promise<boolean> {
  const reachable = await probePostgres();
  if (!reachable && process.env.DEPLOYBOT_REQUIRE_POSTGRES === "1") {
    throw new Error(`${PG_SKIP_REASON}, and DEPLOYBOT_REQUIRE_POSTGRES=1 forbids skipping`);
  }
  return reachable;
}

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: `${PG_HOST_URL}/postgres`,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface TempDataDir {
  readonly dataDir: string;
  remove(): Promise<void>;
}

export async function createTempDataDir(): Promise<TempDataDir> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "deploybot-test-"));
  return { dataDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

export interface ThrowawayDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates `deploybot_test_<random>`; `drop()` removes it, ending any connection left behind. */
export async function createThrowawayDatabase(): Promise<ThrowawayDatabase> {
  const name = `deploybot_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    url: `${PG_HOST_URL}/${name}`,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_HOST_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface StorageMode {
  readonly name: string;
  /** Why the mode's tests are skipped, or `null` when they run. */
  readonly skipReason: string | null;
  /** Fresh, empty storage; `cleanup` removes it. */
  create(): Promise<{ options: { dataDir: string } | { databaseUrl: string }; cleanup(): Promise<void> }>;
}

/** Embedded PGlite always; PostgreSQL when reachable. Describe titles carry the skip reason. */
export async function storageModes(): Promise<StorageMode[]> {
  const reachable = await postgresReachable();
  return [
    {
      name: "embedded PGlite",
      skipReason: null,
      async create() {
        const dir = await createTempDataDir();
        return { options: { dataDir: dir.dataDir }, cleanup: dir.remove };
      },
    },
    {
      name: reachable ? "PostgreSQL" : `PostgreSQL (skipped: ${PG_SKIP_REASON})`,
      skipReason: reachable ? null : PG_SKIP_REASON,
      async create() {
        const database = await createThrowawayDatabase();
        return { options: { databaseUrl: database.url }, cleanup: database.drop };
      },
    },
  ];
}
