/**
 * After a crash, an interrupted run gets a fresh queued copy only if it is not a deploy: a deploy
 * (a run with an environment) may have half-happened, so a human decides whether to run it again.
 */
export function requeuedAfterCrash(run: { readonly environment: string | null }): boolean {
  return run.environment === null;
}
