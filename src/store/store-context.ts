/** What the store's parts share: the database, the run jobs, and the two signals a change sends. */
import type { RunJobs } from "../queue/run-jobs.ts";
import type { Database, Transaction } from "./database.ts";
import type { RunChange } from "./run-changes.ts";

export interface StoreContext {
  readonly db: Database;
  readonly jobs: RunJobs;
  /** Tells the store's `onChange`, if any, inside the changing transaction. */
  tellChange(tx: Transaction, change: RunChange): Promise<void>;
  /** After a commit that queued jobs, so a worker in this process can fetch without waiting. */
  notifyEnqueued(): void;
}
