/**
 * One real store (PGlite + pg-boss) per test file for the flows that start runs from GitHub requests (comment
 * commands, Checks tab requests), with nock for GitHub: no request leaves the process, each test's unexpected
 * GitHub calls are listed, and each test leaves nothing runnable behind.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { RunRecord } from "../../src/runs/run.ts";
import { openTestStore, type TestStore, unmatchedRequests } from "../security/security-harness.ts";
import { removeTempDirs } from "./git-remote.ts";

export interface FlowStore {
  /** The store (opened before the first test). */
  readonly t: TestStore;
  /** GitHub calls nock could not match in this test. */
  readonly unmatched: readonly string[];
  /** Runs the flow handed to the reporter in this test. */
  readonly reported: RunRecord[];
  /** Every run a worker may take now (claimed as `worker`). */
  claimable(): Promise<RunRecord[]>;
}

export function useFlowStore(worker: string): FlowStore {
  let t: TestStore | undefined;
  let unmatched: ReturnType<typeof unmatchedRequests> | undefined;
  const reported: RunRecord[] = [];
  const store = () => {
    if (!t) throw new Error("the store opens in beforeAll");
    return t;
  };
  const claimable = async () => (await store().store.claimRuns(worker, 100)).runs;

  // Opening a store costs seconds: one for the file.
  beforeAll(async () => {
    nock.disableNetConnect();
    t = await openTestStore();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await t?.close();
    await removeTempDirs();
  });
  beforeEach(() => {
    unmatched = unmatchedRequests();
    reported.length = 0;
  });
  afterEach(async () => {
    unmatched?.stop();
    nock.cleanAll();
    // One run per environment is handed out at a time: end what runs, then take the rest until none is left.
    const { db, store: runs } = store();
    const running = await db.query<{ id: string }>("SELECT id FROM runs WHERE state = 'running'");
    for (const { id } of running) await runs.finishRun(id, { state: "cancelled", detail: "test over" });
    for (let left = await claimable(); left.length > 0; left = await claimable())
      for (const run of left) await runs.finishRun(run.id, { state: "cancelled", detail: "test over" });
  });

  return {
    get t() {
      return store();
    },
    get unmatched() {
      return unmatched?.list ?? [];
    },
    reported,
    claimable,
  };
}
