import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import { storageModes } from "../helpers/database.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`migrations on ${mode.name}`, () => {
    const versions = MIGRATIONS.map((migration) => migration.version).sort((a, b) => a - b);

    it("apply once, also when two processes start together", async () => {
      const created = await mode.create();
      try {
        // Two pools opening at once stand in for two processes on PostgreSQL; PGlite is opened twice in turn.
        const opened =
          "databaseUrl" in created.options
            ? await Promise.all([openDatabase(created.options), openDatabase(created.options)])
            : [await openDatabase(created.options)];
        for (const db of opened) {
          const rows = await db.query<{ version: number }>(
            "SELECT version FROM schema_migrations ORDER BY version",
          );
          expect(rows.map((row) => row.version)).toEqual(versions);
        }
        for (const db of opened) await db.close();
        const again = await openDatabase(created.options);
        expect(await again.query("SELECT version FROM schema_migrations")).toHaveLength(versions.length);
        await again.close();
      } finally {
        await created.cleanup();
      }
    });
  });
}
