import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore } from "../../src/store/run-store.ts";
import { sentCheckRuns } from "../../src/store/sent-check-runs.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pushEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(
    `what GitHub was last told as check runs, on ${mode.name}`,
    { timeout: 90_000 },
    () => {
      it("marks a create, records the check run, starts over for a replacement, goes with its run", async () => {
        const created = await mode.create();
        const db = await openDatabase(created.options);
        const store = await openRunStore(db);
        try {
          const sent = sentCheckRuns(db);
          const accepted = await store.acceptDelivery(delivery(pushEvent(), [run("test")]));
          const runId = accepted.runs[0]!.id;
          expect(await sent.checkRunsSent([runId])).toEqual(new Map());

          await sent.markCreating(runId, null);
          expect(await sent.checkRunsSent([runId])).toEqual(
            new Map([
              [
                runId,
                {
                  checkRunId: null,
                  createStarted: true,
                  completed: false,
                  replacedCheckRunId: null,
                  bodySha256: null,
                },
              ],
            ]),
          );
          // Ids beyond 2^31: GitHub's check run ids are 64-bit.
          await sent.recordCheckRunSent(runId, {
            checkRunId: 40_000_000_001,
            completed: true,
            bodySha256: "a",
          });
          expect((await sent.checkRunsSent([runId])).get(runId)).toEqual({
            checkRunId: 40_000_000_001,
            createStarted: false,
            completed: true,
            replacedCheckRunId: null,
            bodySha256: "a",
          });

          // The run became active again: a new check run replaces the completed one.
          await sent.markCreating(runId, 40_000_000_001);
          expect((await sent.checkRunsSent([runId])).get(runId)).toEqual({
            checkRunId: null,
            createStarted: true,
            completed: false,
            replacedCheckRunId: 40_000_000_001,
            bodySha256: null,
          });
          await sent.recordCheckRunSent(runId, {
            checkRunId: 40_000_000_002,
            completed: false,
            bodySha256: "b",
          });
          expect((await sent.checkRunsSent([runId])).get(runId)).toMatchObject({
            checkRunId: 40_000_000_002,
            createStarted: false,
            completed: false,
            bodySha256: "b",
          });

          // A run pruned meanwhile leaves nothing behind, and writes for it are no-ops.
          await sent.markCreating("no-such-run", null);
          await sent.recordCheckRunSent("no-such-run", { checkRunId: 1, completed: false, bodySha256: "c" });
          expect(await sent.checkRunsSent(["no-such-run"])).toEqual(new Map());
          await db.query("UPDATE runs SET state = 'passed', finished_at = now()");
          await store.pruneFinished({ olderThanDays: 30, keepRuns: 0 });
          expect(await sent.checkRunsSent([runId])).toEqual(new Map());
        } finally {
          await store.close();
          await db.close();
          await created.cleanup();
        }
      });
    },
  );
}
