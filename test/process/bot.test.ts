/**
 * The process-level end-to-end suite: `npm start` in its own process against a fake GitHub Enterprise Server
 * and a real git remote (see `scenario.ts`). Each case is its own bot process, so they run concurrently:
 * most of a case is waiting (start-up, steps, GitHub's write throttling), and the suite stays well under a
 * minute on two cores. The cases live in `*.case.ts`, one per file.
 */
import { describe, it } from "vitest";
import { browserLogin, skipBrowser } from "./browser.case.ts";
import { dashboardBehindLogin } from "./dashboard.case.ts";
import { failingTestSkipsDeploy } from "./failing-test.case.ts";
import { pullRequestComment } from "./pull-request.case.ts";
import { pushToMain } from "./push.case.ts";
import { reportAfterRestart } from "./report-after-restart.case.ts";
import { killAndRestart } from "./restart.case.ts";

describe.concurrent("npm start against GitHub Enterprise", { timeout: 60_000 }, () => {
  it("a push to main runs test then deploy: final statuses success, and the run page", pushToMain);
  it("a pull request (opened, then synchronize) keeps one comment, edited in place", pullRequestComment);
  it("a failing test: deploy is skipped and never runs", failingTestSkipsDeploy);
  it("kill -9 of the process group mid-run, then a restart: no status left pending", killAndRestart);
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
});
