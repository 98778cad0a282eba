/**
 * Opens the store's database: embedded PGlite under `<dataDir>/db` by default, or a real PostgreSQL when
 * `DATABASE_URL` is given. Migrations run before the handle is returned.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import v8 from "node:v8";
import pg from "pg";
import { bossExecutor } from "./boss-executor.ts";
import type { Database, Row, Transaction } from "./database.ts";
import { runMigrations } from "./migrations.ts";
import { startPgliteThread } from "./pglite-thread-client.ts";

const execFileAsync = promisify(execFile);

/**
 * For long-running processes with the embedded store: compile PGlite's WebAssembly (PostgreSQL) on one
 * background thread instead of one per core. Measured on Node 24 (2 cores): the same fast start-up, and
 * the process settles at ~165 MB for the store instead of ~220 MB, because fewer compiler threads keep
 * fewer buffers. (Either way V8 spends ~500 MB of transient compiler memory during the ~1.5 s after the
 * database opens; `--no-liftoff` avoids that peak only by adding ~5 s to every start, and a webhook
 * receiver's restarts should be short.) Must run before the first database is opened.
 */
export function compileEmbeddedDatabaseLean(): void {
  v8.setFlagsFromString("--wasm-num-compilation-tasks=1");
}

export type DatabaseOptions =
  | { readonly dataDir: string }
  | { readonly databaseUrl: string; readonly poolSize?: number };

/** Opens (and migrates) the database named by `opts`; the caller closes it. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const db =
    "dataDir" in opts ? await openPglite(opts.dataDir) : openPostgres(opts.databaseUrl, opts.poolSize ?? 5);
  try {
    await runMigrations(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}

/**
 * PostgreSQL's default 128 MB of shared buffers would all live in the bot's own heap; the store's working
 * set is a few MB (runs, steps, log chunks, queue jobs), so 16 MB keeps the embedded server small.
 */
const PGLITE_CONFIG = { postgresqlconf: ["shared_buffers=16MB"] };

async function openPglite(dataDir: string): Promise<Database> {
  const dir = path.join(dataDir, "db");
  await mkdir(dir, { recursive: true });
  await initialisePglite(dir);
  const thread = await startPgliteThread(dir, PGLITE_CONFIG);
  // One PostgreSQL session serves everything, so while one of our transactions is open nothing else
  // may reach it: other statements and transactions wait for it to settle (as PGlite's own
  // transaction() made them wait). Outside transactions, statements go straight to the thread, which
  // runs them in order.
  // Statements reach the thread in the order they are posted (synchronously, inside each call), so
  // waiting on the open transaction before posting is all the exclusion needed.
  let queued: Promise<void> = Promise.resolve();
  let open: Promise<void> | undefined;
  const outsideTransactions = async (): Promise<void> => {
    while (open) await open;
  };
  const bossDb = bossExecutor({
    async query(sql, params) {
      await outsideTransactions();
      return { rows: await thread.query(sql, params, true) };
    },
    async exec(sql) {
      await outsideTransactions();
      return (await thread.exec(sql, true)).map((rows) => ({ rows }));
    },
  });
  return {
    kind: "pglite",
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      await outsideTransactions();
      return thread.query<T>(sql, params, true);
    },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>) {
      const previous = queued;
      let release = () => {};
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      queued = previous.then(() => mine);
      await previous;
      open = mine;
      try {
        await thread.query("BEGIN", [], false);
        const runner = {
          query: async (sql: string, params: unknown[]) => ({ rows: await thread.query(sql, params, false) }),
          exec: async (sql: string) => (await thread.exec(sql, false)).map((rows) => ({ rows })),
        };
        const tx: Transaction = {
          query: <R extends Row>(sql: string, params: readonly unknown[] = []) =>
            thread.query<R>(sql, params, false),
          async exec(sql: string) {
            await thread.exec(sql, false);
          },
          bossDb: bossExecutor(runner),
        };
        try {
          const result = await fn(tx);
          // Resolves only once the thread reports the commit: callers acknowledge after durable.
          await thread.query("COMMIT", [], false);
          return result;
        } catch (error) {
          await thread.query("ROLLBACK", [], false).catch(() => {});
          throw error;
        }
      } finally {
        open = undefined;
        release();
      }
    },
    bossOptions: () => ({ db: bossDb, backend: "pglite" }),
    close: () => thread.close(),
  };
}

/**
 * Creating a cluster (initdb) grows the WASM heap to ~550 MB, and that memory is never returned to the
 * OS while the process lives. So a fresh data directory is never initialised in this process: it is
 * copied from a template cluster in the user's cache directory (made once per PGlite version by a
 * short-lived child process), or, if that cache is not writable, initialised by such a child directly.
 */
async function initialisePglite(dir: string): Promise<void> {
  if (existsSync(path.join(dir, "PG_VERSION"))) return;
  const template = await pgliteTemplate().catch(() => undefined);
  if (template) await cp(template, dir, { recursive: true });
  else await initdbInChildProcess(dir);
}

/** The cached template cluster, created if missing; private to the user (mode 0700). */
async function pgliteTemplate(): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
  const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8"));
  const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "deploy-bot");
  const template = path.join(cacheRoot, `pglite-${version}-${PGLITE_CONFIG.postgresqlconf.join(",")}`);
  if (existsSync(path.join(template, "PG_VERSION"))) return template;
  await mkdir(cacheRoot, { recursive: true, mode: 0o700 });
  const building = await mkdtemp(path.join(cacheRoot, "building-"));
  try {
    await initdbInChildProcess(building);
    await rename(building, template);
  } catch (error) {
    // Another process finished the same template first: use theirs.
    if (!existsSync(path.join(template, "PG_VERSION"))) throw error;
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

async function initdbInChildProcess(dir: string): Promise<void> {
  const script = `
    const { PGlite } = await import(${JSON.stringify(import.meta.resolve("@electric-sql/pglite"))});
    const db = await PGlite.create(process.argv[1], ${JSON.stringify(PGLITE_CONFIG)});
    await db.close();`;
  const failed = await execFileAsync(process.execPath, ["--input-type=module", "-e", script, dir], {
    timeout: 120_000,
  }).then(
    () => null,
    (error: Error & { stderr?: string }) => error,
  );
  if (failed)
    throw new Error(`could not create the embedded database in ${dir}: ${failed.stderr || failed.message}`);
}

function openPostgres(databaseUrl: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return {
    kind: "postgres",
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query<T>(sql, [...params])).rows;
    },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const runner = {
          query: (sql: string, params: unknown[]) => client.query(sql, params),
          async exec(sql: string) {
            const result = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
            return Array.isArray(result) ? result : [result];
          },
        };
        const tx: Transaction = {
          async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
            return (await client.query<R>(sql, [...params])).rows;
          },
          async exec(sql: string) {
            await client.query(sql);
          },
          bossDb: bossExecutor(runner),
        };
        const result = await fn(tx);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    bossOptions: () => ({ connectionString: databaseUrl, max: 4 }),
    close: () => pool.end(),
  };
}
