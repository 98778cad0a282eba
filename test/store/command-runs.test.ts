/** Manual runs waiting for a command, and commands recorded once with the runs they start. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeployEvent } from "../../src/events/deploy-event.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/open-database.ts";
import type { RunChange } from "../../src/store/run-changes.ts";
import { openRunStore, type RunStore } from "../../src/store/run-store.ts";
import { storageModes } from "../helpers/database.ts";
import { delivery, pullRequestEvent, pushEvent, run } from "../queue/fixtures.ts";

const feedback = (note: string) => (started: string | null) => [
  { topic: "command-feedback", key: `fb-${note}`, payload: { note, started } },
];

for (const mode of await storageModes()) {
  describe.skipIf(mode.skipReason !== null)(`command runs on ${mode.name}`, () => {
    let db: Database;
    let store: RunStore;
    let cleanup: () => Promise<void>;
    const changes: RunChange[] = [];
    let commands = 0;
    const commandId = () => `command-${mode.name}-${++commands}`;

    beforeAll(async () => {
      const created = await mode.create();
      cleanup = created.cleanup;
      db = await openDatabase(created.options);
      store = await openRunStore(db, {
        onChange: async (_tx, change) => {
          changes.push(change);
        },
      });
    });
    beforeEach(() => {
      changes.length = 0;
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
      await cleanup?.();
    });

    const drain = async () => {
      for (;;) {
        const { runs } = await store.claimRuns("w-1", 10);
        if (runs.length === 0) return;
        for (const claimed of runs) await store.finishRun(claimed.id, { state: "passed", detail: "ok" });
      }
    };
    const outbox = () =>
      db.query<{ key: string; payload: unknown }>("SELECT key, payload FROM outbox ORDER BY id");
    const mainPush = (branch: string) => {
      const event = pushEvent({ branch });
      return {
        event,
        input: delivery(event, [
          run("test"),
          run("deploy-production", { needs: ["test"], environment: "production", manual: true }),
        ]),
      };
    };

    it("a manual run waits after its needs pass, and a deploy command starts it, once", async () => {
      const { event, input } = mainPush("main-1");
      const accepted = await store.acceptDelivery(input);
      const [test, deploy] = accepted.runs.map((r) => r.id);
      const { runs } = await store.claimRuns("w-1", 10);
      expect(runs.map((r) => r.id)).toEqual([test]);
      const finished = await store.finishRun(test!, { state: "passed", detail: "ok" });
      expect(finished.changed.map((r) => [r.id, r.state])).toEqual([[deploy, "waiting"]]);
      expect(changes.at(-1)).toEqual({ cause: "finished", runIds: [test, deploy] });
      expect((await store.claimRuns("w-1", 10)).runs).toEqual([]);

      const id = commandId();
      const commandEvent: DeployEvent = {
        ...event,
        deliveryId: id,
        command: { text: "/deploy-bot deploy production main-1", by: "alice", issueNumber: 12 },
      };
      const recorded = await store.recordCommand(
        {
          deliveryId: id,
          repo: "acme/app",
          event: commandEvent,
          reason: "deploy",
          startWaiting: { environment: "production" },
          runs: [
            {
              pipeline: "deploy-production",
              environment: "production",
              needs: [],
              stepNames: ["Deploy"],
              manual: false,
              retryOf: null,
            },
          ],
        },
        feedback(id),
      );
      expect(recorded).toMatchObject({ duplicate: false, released: true });
      expect(recorded.runs.map((r) => [r.id, r.state])).toEqual([[deploy, "queued"]]);
      // The released run's delivery now reports to the issue the command was written on.
      expect(recorded.runs[0]?.event.command).toEqual(commandEvent.command);
      expect(changes.at(-1)).toEqual({ cause: "command", runIds: [deploy] });
      expect((await outbox()).filter((m) => m.key === `fb-${id}`)).toEqual([
        { key: `fb-${id}`, payload: { note: id, started: input.deliveryId } },
      ]);
      expect((await store.claimRuns("w-1", 10)).runs.map((r) => r.id)).toEqual([deploy]);

      // The same delivery again: nothing recorded, started or sent.
      const before = (await outbox()).length;
      const again = await store.recordCommand(
        {
          deliveryId: id,
          repo: "acme/app",
          event: commandEvent,
          reason: "deploy",
          startWaiting: { environment: "production" },
          runs: [
            {
              pipeline: "deploy-production",
              environment: "production",
              needs: [],
              stepNames: ["Deploy"],
              manual: false,
              retryOf: null,
            },
          ],
        },
        feedback(`${id}-again`),
      );
      expect(again).toEqual({ duplicate: true, runs: [], released: false });
      expect(await outbox()).toHaveLength(before);
      expect(await store.isKnownDelivery(id)).toBe(true);

      // Another command (a distinct delivery) while the released run runs: answered, nothing new started.
      const other = commandId();
      const second = await store.recordCommand(
        {
          deliveryId: other,
          repo: "acme/app",
          event: { ...commandEvent, deliveryId: other },
          reason: "deploy",
          startWaiting: { environment: "production" },
          runs: [
            {
              pipeline: "deploy-production",
              environment: "production",
              needs: [],
              stepNames: ["Deploy"],
              manual: false,
              retryOf: null,
            },
          ],
        },
        feedback(other),
      );
      expect(second).toEqual({ duplicate: false, runs: [], released: true });
      expect((await outbox()).filter((m) => m.key === `fb-${other}`)).toEqual([
        { key: `fb-${other}`, payload: { note: other, started: input.deliveryId } },
      ]);
      const productionRuns = await db.query(
        "SELECT id FROM runs WHERE environment = 'production' AND sha = $1",
        [event.sha],
      );
      expect(productionRuns).toHaveLength(1);
      await store.finishRun(deploy!, { state: "passed", detail: "ok" });
    });

    it("a manual pipeline first in its chain waits at once; a newer push supersedes it", async () => {
      const first = pushEvent({ branch: "main-2" });
      const waiting = await store.acceptDelivery(
        delivery(first, [
          run("deploy-production", { environment: "production", manual: true, initialState: "waiting" }),
        ]),
      );
      expect(waiting.runs.map((r) => r.state)).toEqual(["waiting"]);
      expect((await store.claimRuns("w-1", 10)).runs).toEqual([]);
      const second = await store.acceptDelivery(
        delivery(pushEvent({ branch: "main-2" }), [
          run("deploy-production", { environment: "production", manual: true, initialState: "waiting" }),
        ]),
      );
      expect(second.superseded.map((r) => [r.id, r.state])).toEqual([[waiting.runs[0]?.id, "superseded"]]);
    });

    it("a command with nothing waiting starts new runs at its commit, marked as a rollback", async () => {
      await drain();
      const sha = "c".repeat(40);
      const id = commandId();
      const event = pushEvent({
        deliveryId: id,
        sha,
        ref: sha,
        branch: undefined,
        command: {
          text: "/deploy-bot rollback production",
          by: "alice",
          issueNumber: 12,
          rollbackOf: "d".repeat(40),
        },
      });
      const recorded = await store.recordCommand(
        {
          deliveryId: id,
          repo: "acme/app",
          event,
          reason: "rollback",
          startWaiting: { environment: "production" },
          runs: [
            {
              pipeline: "deploy-production",
              environment: "production",
              needs: [],
              stepNames: ["Deploy"],
              manual: false,
              retryOf: null,
            },
          ],
        },
        feedback(id),
      );
      expect(recorded.released).toBe(false);
      expect(recorded.runs).toMatchObject([
        {
          pipeline: "deploy-production",
          state: "queued",
          deliveryId: id,
          rollbackOf: "d".repeat(40),
          event: { sha },
        },
      ]);
      expect(recorded.runs[0]?.steps.map((s) => s.name)).toEqual(["Deploy"]);
      expect((await outbox()).filter((m) => m.key === `fb-${id}`)).toEqual([
        { key: `fb-${id}`, payload: { note: id, started: id } },
      ]);
      await drain();
      const deploys = await store.deploysOf("acme/app", "production");
      expect(deploys[0]).toMatchObject({ sha, pipeline: "deploy-production", runId: recorded.runs[0]?.id });
      expect((await store.runsAtSha("acme/app", sha)).map((r) => r.id)).toEqual([recorded.runs[0]?.id]);
      expect((await store.latestRunsOn("acme/app", 12)).map((r) => r.id)).toEqual([recorded.runs[0]?.id]);
    });

    it("a refused command is recorded once, with its feedback and no runs", async () => {
      const id = commandId();
      const input = { deliveryId: id, repo: "acme/app", event: null, reason: "refused: no", runs: [] };
      expect(await store.recordCommand(input, feedback(id))).toEqual({
        duplicate: false,
        runs: [],
        released: false,
      });
      expect(await store.recordCommand(input, feedback(`${id}-2`))).toEqual({
        duplicate: true,
        runs: [],
        released: false,
      });
      expect((await outbox()).filter((m) => m.key.startsWith(`fb-${id}`))).toEqual([
        { key: `fb-${id}`, payload: { note: id, started: null } },
      ]);
      expect(await store.getDelivery(id)).toMatchObject({
        outcome: "ignored",
        reason: "refused: no",
        eventName: "issue_comment",
      });
    });

    it("an approved fork's manual pipeline, first in its chain, still waits for its command", async () => {
      await drain();
      const event = pullRequestEvent({ prNumber: 41 });
      const accepted = await store.acceptDelivery(
        delivery(event, [
          run("test", { initialState: "awaiting_approval" }),
          run("deploy-preview", { environment: "preview", manual: true, initialState: "awaiting_approval" }),
        ]),
      );
      const approved = await store.approveRuns("acme/app", 41, event.sha);
      expect(approved.map((r) => [r.pipeline, r.state])).toEqual([
        ["test", "queued"],
        ["deploy-preview", "waiting"],
      ]);
      expect((await store.claimRuns("w-1", 10)).runs.map((r) => r.id)).toEqual([accepted.runs[0]?.id]);
    });

    it("a retried chain queues its first run and holds the rest until it passes", async () => {
      const sha = "e".repeat(40);
      const id = commandId();
      const recorded = await store.recordCommand(
        {
          deliveryId: id,
          repo: "acme/app",
          event: pushEvent({ deliveryId: id, sha, branch: "retry" }),
          reason: "retry",
          runs: [
            {
              pipeline: "test",
              environment: null,
              needs: [],
              stepNames: ["Unit tests"],
              manual: false,
              retryOf: "old-1",
            },
            {
              pipeline: "deploy-production",
              environment: "production",
              needs: ["test"],
              stepNames: ["Deploy"],
              manual: true,
              retryOf: "old-2",
            },
          ],
        },
        feedback(id),
      );
      const [test, deploy] = recorded.runs.map((r) => r.id);
      const { runs } = await store.claimRuns("w-1", 10);
      expect(runs.map((r) => r.id)).toEqual([test]);
      const finished = await store.finishRun(test!, { state: "passed", detail: "ok" });
      expect(finished.changed.map((r) => [r.id, r.state])).toEqual([[deploy, "waiting"]]);
    });

    const input = (
      pipeline: string,
      extra: Partial<{
        needs: string[];
        manual: boolean;
        awaitingApproval: boolean;
        environment: string;
      }> = {},
    ) => ({
      pipeline,
      environment: extra.environment ?? null,
      needs: extra.needs ?? [],
      stepNames: ["Step"],
      manual: extra.manual ?? false,
      retryOf: `old-${pipeline}`,
      ...(extra.awaitingApproval ? { awaitingApproval: true } : {}),
    });

    it("a re-run from the Checks tab: one delivery per event it repeats, in one transaction, once", async () => {
      await drain();
      const sha = "f".repeat(40);
      const id = commandId();
      const push = pushEvent({ deliveryId: "push-delivery", sha, branch: "rerun" });
      const pr = pullRequestEvent({ deliveryId: "pr-delivery", sha, prNumber: 77 });
      const rerun = {
        deliveryId: id,
        eventName: "check_suite",
        repo: "acme/app",
        sender: "carol",
        reason: "Re-run all checks: run test, deploy, lint again",
        groups: [
          {
            event: push,
            runs: [
              input("test"),
              input("deploy", { needs: ["test"], environment: "staging" }),
              input("deploy-production", { environment: "production", manual: true }),
            ],
          },
          { event: pr, runs: [input("lint")] },
        ],
      };
      const recorded = await store.recordRerun(rerun, feedback(id));
      expect(recorded.duplicate).toBe(false);
      expect(recorded.runs.map((r) => [r.pipeline, r.state, r.deliveryId])).toEqual([
        ["test", "queued", id],
        ["deploy", "queued", id],
        // A manual pipeline that needs nothing waits for its deploy button again.
        ["deploy-production", "waiting", id],
        ["lint", "queued", `${id}/2`],
      ]);
      // Each run carries the event it repeats, as the clicking user's delivery.
      expect(recorded.runs[0]?.event).toEqual({ ...push, deliveryId: id, sender: "carol" });
      expect(recorded.runs[3]?.event).toEqual({ ...pr, deliveryId: `${id}/2`, sender: "carol" });
      expect(await store.getDelivery(id)).toMatchObject({ outcome: "planned", eventName: "check_suite" });
      expect(changes.at(-1)).toEqual({ cause: "command", runIds: recorded.runs.map((r) => r.id) });
      expect((await outbox()).filter((m) => m.key === `fb-${id}`)).toEqual([
        { key: `fb-${id}`, payload: { note: id, started: id } },
      ]);
      // The roots are queued now: test and lint; deploy waits for test, production for its button.
      const claimed = (await store.claimRuns("w-1", 10)).runs.map((r) => r.pipeline).sort();
      expect(claimed).toEqual(["lint", "test"]);
      // The PR's one comment shows the re-run.
      expect((await store.latestRunsOn("acme/app", 77)).map((r) => r.pipeline)).toEqual(["lint"]);

      // Redelivered: nothing recorded, nothing started.
      const before = (await outbox()).length;
      expect(await store.recordRerun(rerun, feedback(`${id}-again`))).toEqual({
        duplicate: true,
        runs: [],
        released: false,
      });
      expect(await outbox()).toHaveLength(before);
      expect(await store.runsAtSha("acme/app", sha)).toHaveLength(4);
      await drain();
    });

    it("a re-run of fork code waits for approval again, and the approval queues it", async () => {
      await drain();
      const event = pullRequestEvent({ deliveryId: "fork-pr", prNumber: 78, fork: true });
      const id = commandId();
      const recorded = await store.recordRerun(
        {
          deliveryId: id,
          eventName: "check_run",
          repo: "acme/app",
          sender: "carol",
          reason: "Re-run: run test again",
          groups: [{ event, runs: [input("test", { awaitingApproval: true })] }],
        },
        feedback(id),
      );
      expect(recorded.runs.map((r) => r.state)).toEqual(["awaiting_approval"]);
      expect((await store.claimRuns("w-1", 10)).runs).toEqual([]);
      const approved = await store.approveRuns("acme/app", 78, event.sha);
      expect(approved.map((r) => [r.id, r.state])).toEqual([[recorded.runs[0]?.id, "queued"]]);
      await drain();
    });

    it("a Deploy button (no comment) releases the waiting run without touching where it reports", async () => {
      await drain();
      const { event, input: accepted } = mainPush("main-3");
      const original = { ...event, command: { text: "/deploy-bot retry", by: "bob", issueNumber: 5 } };
      const { runs } = await store.acceptDelivery({ ...accepted, event: original });
      await drain();
      const waiting = (await store.runsAtSha("acme/app", event.sha)).find((r) => r.state === "waiting");
      expect(waiting?.id).toBe(runs[1]?.id);
      const id = commandId();
      const recorded = await store.recordCommand(
        {
          deliveryId: id,
          eventName: "check_run",
          repo: "acme/app",
          event: { ...event, deliveryId: id, sender: "carol" },
          reason: "Deploy button: deploy deploy-production to production",
          startWaiting: { environment: "production" },
          runs: [],
        },
        feedback(id),
      );
      expect(recorded.runs.map((r) => [r.id, r.state])).toEqual([[waiting?.id, "queued"]]);
      expect(recorded.runs[0]?.event.command).toEqual(original.command);
      expect(await store.getDelivery(id)).toMatchObject({ eventName: "check_run", outcome: "planned" });
      expect((await outbox()).filter((m) => m.key === `fb-${id}`)).toEqual([
        { key: `fb-${id}`, payload: { note: id, started: accepted.deliveryId } },
      ]);
      await drain();
    });
  });
}
