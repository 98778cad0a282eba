/**
 * The process-level end-to-end suite: `npm start` in its own process against a fake GitHub Enterprise Server
 * and a real git remote (see `scenario.ts`). Each case is its own bot process, so they run concurrently:
 * most of a case is waiting (start-up, steps, GitHub's write throttling), and the suite stays well under a
 * minute on two cores. The cases live in `*.case.ts`, one per file.
 */
import { describe, it } from "vitest";
import { commandsOnPullRequest, manualDeployAndRollback } from "./commands.case.ts";
import { failingTestSkipsDeploy } from "./failing-test.case.ts";
import { failingTestNotifies, notificationSurvivesKill } from "./notifications.case.ts";
import { pullRequestComment } from "./pull-request.case.ts";
import { pushToMain } from "./push.case.ts";
import { reportAfterRestart } from "./report-after-restart.case.ts";
import { killAndRestart } from "./restart.case.ts";

describe.concurrent("npm start against GitHub Enterprise", { timeout: 60_000 }, () => {
  it("a push to main runs test then deploy: final statuses success, and the run page", pushToMain);
  it("a pull request (opened, then synchronize) keeps one comment, edited in place", pullRequestComment);
  it("a failing test: deploy is skipped and never runs", failingTestSkipsDeploy);
  it("kill -9 of the process group mid-run, then a restart: no status left pending", killAndRestart);
  // Retries wait as the contract says (2 s, then 5 s): these two cases get more time on a loaded machine.
  it(
    "a failing test notifies Slack and a signed webhook, retrying 5xx, never a 400",
    failingTestNotifies,
    120_000,
  );
  it(
    "a pending notification survives kill -9: delivered after the restart, once",
    notificationSurvivesKill,
    120_000,
  );
  it(
    "kill -9 after a run's end while GitHub fails: the restart delivers its final status",
    reportAfterRestart,
  );
  it(
    "/deploy-bot deploy on a PR: a reader is refused, a writer deploys the head, a redelivery does nothing",
    commandsOnPullRequest,
  );
  it(
    "a manual production deploy waits for /deploy-bot deploy; rollback deploys the previous good SHA",
    manualDeployAndRollback,
    120_000,
  );
});
