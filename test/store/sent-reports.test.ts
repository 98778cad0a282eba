import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/open-database.ts";
import { openRunStore } from "../../src/store/run-store.ts";
import { sentReports } from "../../src/store/sent-reports.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pullRequestEvent, run } from "../queue/fixtures.ts";

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(
    `what GitHub was last told, on ${mode.name}`,
    { timeout: 90_000 },
    () => {
      it("keeps statuses with their runs, finds a PR's newest delivery, forgets comments with their PR's runs", async () => {
        const created = await mode.create();
        const db = await openDatabase(created.options);
        const store = await openRunStore(db);
        try {
          const sent = sentReports(db);
          const pr = { repo: "ACME/App", prNumber: 7 };
          expect(await sent.newestDeliveryOf(pr)).toBeUndefined();
          const older = pullRequestEvent({ fork: false });
          const newer = pullRequestEvent({ fork: false });
          const first = await store.acceptDelivery(delivery(older, [run("test")]));
          await store.acceptDelivery(delivery(newer, [run("test")]));
          expect(await sent.newestDeliveryOf(pr)).toBe(newer.deliveryId);
          // A re-queued copy of the older delivery's run (after a crash) does not make it the newest again.
          await db.query(
            `INSERT INTO runs (id, delivery_id, repo, ref_key, sha, pr_number, pipeline, needs, state, retry_of)
           SELECT 'copy', delivery_id, repo, ref_key, sha, pr_number, pipeline, needs, 'queued', id FROM runs WHERE id = $1`,
            [first.runs[0]!.id],
          );
          expect(await sent.newestDeliveryOf(pr)).toBe(newer.deliveryId);

          const runId = first.runs[0]!.id;
          await sent.recordStatusSent(runId, { state: "pending", description: "Queued" });
          await sent.recordStatusSent(runId, { state: "success", description: "Passed in 3s" });
          await sent.recordStatusSent("no-such-run", { state: "pending", description: "Queued" });
          expect(await sent.statusesSent([runId, "no-such-run"])).toEqual(
            new Map([[runId, { state: "success", description: "Passed in 3s" }]]),
          );
          await sent.recordCommentSent(pr, { commentId: 1, bodySha256: "a" });
          await sent.recordCommentSent({ repo: "acme/app", prNumber: 7 }, { commentId: 2, bodySha256: "b" });
          expect(await sent.commentSent(pr)).toEqual({ commentId: 2, bodySha256: "b" });

          await db.query("UPDATE runs SET state = 'passed', finished_at = now()");
          await store.pruneFinished({ olderThanDays: 30, keepRuns: 0 });
          expect(await sent.statusesSent([runId])).toEqual(new Map());
          expect(await sent.commentSent(pr)).toBeUndefined();
        } finally {
          await store.close();
          await db.close();
          await created.cleanup();
        }
      });
    },
  );
}
