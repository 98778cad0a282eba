import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/open-database.ts";
import { stepProcesses } from "../../src/store/step-processes.ts";
import { storageModes } from "../helpers/database.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`step processes on ${mode.name}`, () => {
    it("leftovers are the groups of runs on this host that no longer run", async () => {
      const created = await mode.create();
      const db = await openDatabase(created.options);
      try {
        await db.query("INSERT INTO deliveries (id, event_name, outcome) VALUES ('d', 'push', 'planned')");
        for (const [id, state] of [
          ["running", "running"],
          ["interrupted", "interrupted"],
          ["passed", "passed"],
        ])
          await db.query(
            `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pipeline, state)
             VALUES ($1, 'd', 'o/r', 'refs/heads/main', 'abc', 'deploy', $2)`,
            [id, state],
          );
        const here = stepProcesses(db, { host: "here", bootId: "b1" });
        const there = stepProcesses(db, { host: "there", bootId: "b1" });
        await here.started("running", 100);
        await here.started("interrupted", 101);
        await here.started("passed", 102);
        await here.started("passed", 102); // recorded twice: one row
        await there.started("interrupted", 200);
        await here.started("interrupted", 103);
        await here.ended("interrupted", 103);
        const leftovers = await here.leftovers();
        expect(leftovers.sort((a, b) => a.pgid - b.pgid)).toEqual([
          { runId: "interrupted", pgid: 101, bootId: "b1" },
          { runId: "passed", pgid: 102, bootId: "b1" },
        ]);
        await here.forget(leftovers);
        expect(await here.leftovers()).toEqual([]);
        expect(await there.leftovers()).toEqual([{ runId: "interrupted", pgid: 200, bootId: "b1" }]);
      } finally {
        await db.close();
        await created.cleanup();
      }
    });
  });
}
