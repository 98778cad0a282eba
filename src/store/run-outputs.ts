/** What steps reported back about their run (`DEPLOYBOT_OUTPUT`), recorded on the run. */
import type { Executor } from "./database.ts";

/** Records the run's environment URL (already checked by `exec/step-output.ts`); the newest report wins. */
export async function recordEnvironmentUrl(executor: Executor, runId: string, url: string): Promise<void> {
  await executor.query("UPDATE runs SET environment_url = $2 WHERE id = $1", [runId, url]);
}
