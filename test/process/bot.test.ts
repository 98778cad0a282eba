/**
 * The process-level end-to-end suite: `npm start` in its own process against a fake GitHub Enterprise Server
 * and a real git remote (see `scenario.ts`). Each case is its own bot process, so they run concurrently:
 * most of a case is waiting (start-up, steps, GitHub's write throttling), and the suite stays well under a
 * minute on two cores. The cases live in `*.case.ts`, one per file.
 */
import { describe, it } from "vitest";
import { browserLogin, skipBrowser } from "./browser.case.ts";
import { catchUpMissedDeliveries } from "./catch-up.case.ts";
import { checkRunsInsteadOfStatuses } from "./checks.case.ts";
import { approveButtonOnFork, checksTabRequests } from "./checks-rerun.case.ts";
import { commandsOnPullRequest, manualDeployAndRollback } from "./commands.case.ts";
import { dashboardBehindLogin } from "./dashboard.case.ts";
import { deploymentsFollowRuns, failingDeployEndsFailure } from "./deployments.case.ts";
import { failingTestSkipsDeploy } from "./failing-test.case.ts";
import { failingTestNotifies, notificationSurvivesKill } from "./notifications.case.ts";
import { orphansDieWithTheSandbox, orphansKilledAtRestart } from "./orphans.case.ts";
import { pullRequestComment } from "./pull-request.case.ts";
import { pushToMain } from "./push.case.ts";
import { deployWaitsInLine, repeatedDeployRunsOnce, retryRunsOnlyWhatFailed } from "./queue.case.ts";
import { reportAfterRestart } from "./report-after-restart.case.ts";
import { killAndRestart } from "./restart.case.ts";
import { scheduledTicks } from "./schedule.case.ts";

describe.concurrent("npm start against GitHub Enterprise", { timeout: 60_000 }, () => {
  it(
    "a deploy queued behind another of its environment: the comment names the deploying commit and its place",
    deployWaitsInLine,
  );
  it("/deploy-bot retry after a failure runs again only what did not pass", retryRunsOnlyWhatFailed);
  it("two distinct deploy comments for one waiting manual run: it deploys once", repeatedDeployRunsOnce);
  it("a push to main runs test then deploy: final statuses success, and the run page", pushToMain);
  it("a pull request (opened, then synchronize) keeps one comment, edited in place", pullRequestComment);
  it("a failing test: deploy is skipped and never runs", failingTestSkipsDeploy);
  it(
    "settings.checks: a check run per pipeline (exact SHA, details URL, log tail, Deploy button), no statuses",
    checkRunsInsteadOfStatuses,
    120_000,
  );
  it(
    "settings.checks: Re-run, Re-run all checks and the Deploy button from the Checks tab; forged or redelivered requests run nothing",
    checksTabRequests,
    120_000,
  );
  it(
    "settings.checks: a fork's run waits with an Approve button; a reader's click is refused, a writer's runs that SHA",
    approveButtonOnFork,
    120_000,
  );
  it(
    "a deploy is a GitHub Deployment: exact SHA, queued → in_progress → success, its URL",
    deploymentsFollowRuns,
  );
  it("a failing deploy's GitHub Deployment ends failure", failingDeployEndsFailure);
  // Three bot starts in one case: more time than the others.
  it("deliveries missed while stopped are recovered at start-up, once", catchUpMissedDeliveries, 120_000);
  it(
    "kill -9 mid-step: the step's processes die with the bot (step sandbox)",
    orphansDieWithTheSandbox,
    120_000,
  );
  it(
    "kill -9 mid-step, STEP_SANDBOX=off: the restart kills the step's leftovers",
    orphansKilledAtRestart,
    120_000,
  );
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
  // Two logins, two users, a browser: more steps than the others, so more time on a loaded machine.
  it(
    "the dashboard behind GitHub login: a reader sees runs and reasons, an outsider nothing",
    dashboardBehindLogin,
    120_000,
  );
  it.skipIf(skipBrowser)(
    "in Chromium: log in through GitHub, watch a run's log grow, filter the dashboard, log out",
    browserLogin,
    120_000,
  );
  it(
    "kill -9 after a run's end while GitHub fails: the restart delivers its final status",
    reportAfterRestart,
  );
  it(
    "a scheduled rule: a tick runs at the branch head, the next is skipped while it runs, a restart after missed ticks runs once",
    { timeout: 6 * 60_000 },
    scheduledTicks,
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
