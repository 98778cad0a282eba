/**
 * End to end, pushes: a signed webhook over HTTP → the real server → a real git remote → real processes →
 * commit statuses on a faked GitHub API (nock). Scenarios: push to main (test then deploy, secret masked),
 * a duplicate delivery, a timed-out step, and a run superseded by a newer push to the same branch.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkContext, FIRST_RUNNABLE, PASSED, poll, processesOfRun, withHarness } from "./harness.ts";

const SECRET = "s3cr3t-deploy-token-e2e-0451";

describe.concurrent("e2e: push", () => {
  it("push to main runs test, then deploy-production with its secret masked everywhere", async () => {
    await withHarness(
      {
        serverEnv: { DEPLOY_TOKEN: SECRET },
        configYaml: `
version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        # 4 s: long enough that deploy's "Waiting for test" reaches GitHub first, behind the write limit and the other
        # delivery's reports on a loaded machine (reports coalesce: a state gone by before its write is not sent).
        run: sleep 4; echo "unit tests for $DEPLOYBOT_SHA"; test -f app.txt
  deploy-production:
    environment: production
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: Deploy
        run: echo "deploying to $TARGET with token $DEPLOY_TOKEN"
        env: { TARGET: production }
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy-production]
`,
      },
      async (h) => {
        const sha = await h.work.commit({ "app.txt": "v1\n" });
        await h.work.push("main");

        const answer = await h.send("push", h.pushPayload(sha));
        expect(answer.status).toBe(202);
        const [test, deploy] = await h.waitForRuns(answer.id, 2);
        if (!test || !deploy) throw new Error("two runs expected");
        expect([test.pipeline, test.state, deploy.pipeline, deploy.state]).toEqual([
          "test",
          "passed",
          "deploy-production",
          "passed",
        ]);
        await h.waitForFinalStatuses([test, deploy]);

        // Statuses: every expected check at once as pending, then the results.
        checkContext(h.github, {
          run: test,
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "success", description: PASSED },
        });
        checkContext(h.github, {
          run: deploy,
          first: { state: "pending", description: "Waiting for test" },
          last: { state: "success", description: PASSED },
        });
        const statuses = h.github.statuses(sha);
        const firstDeploy = statuses.findIndex((s) => s.context === "deploy-bot/deploy-production");
        const testSuccess = statuses.findIndex(
          (s) => s.context === "deploy-bot/test" && s.state === "success",
        );
        const deploySuccess = statuses.findIndex(
          (s) => s.context === "deploy-bot/deploy-production" && s.state === "success",
        );
        expect(firstDeploy).toBeLessThan(testSuccess); // both checks appear before anything finished
        expect(testSuccess).toBeLessThan(deploySuccess);
        // In order: deploy started only after test finished.
        expect(deploy.startedAt?.getTime()).toBeGreaterThanOrEqual(test.finishedAt?.getTime() ?? Infinity);

        // Run pages: steps and masked logs.
        const testPage = await h.get(`/runs/${test.id}`);
        expect(testPage.status).toBe(200);
        expect(testPage.type).toMatch(/^text\/html/);
        expect(testPage.text).toContain("Unit tests");
        expect(testPage.text).toContain(`unit tests for ${sha}`);
        const deployPage = await h.get(`/runs/${deploy.id}`);
        expect(deployPage.status).toBe(200);
        expect(deployPage.text).toContain("Deploy");
        expect(deployPage.text).toContain("deploying to production with token ***");
        expect(deployPage.text).not.toContain(SECRET);
        const rawLog = await h.get(`/runs/${deploy.id}/log`);
        expect(rawLog.status).toBe(200);
        expect(rawLog.text).toContain("deploying to production with token ***");
        expect(rawLog.text).not.toContain(SECRET);

        // The secret never reached GitHub; no comment calls for a push.
        for (const call of h.github.calls) expect(call.body).not.toContain(SECRET);
        expect(h.github.calls.filter((c) => c.path.includes("/comments"))).toEqual([]);
      },
    );
  });

  it("a redelivered webhook (same X-GitHub-Delivery) answers 200 and runs and reports nothing new", async () => {
    await withHarness(
      {
        configYaml: `
version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo ok
rules:
  - name: test main
    on: { push: { branches: [main] } }
    run: [test]
`,
      },
      async (h) => {
        const sha = await h.work.commit({ "app.txt": "v1\n" });
        await h.work.push("main");
        const payload = h.pushPayload(sha);
        const first = await h.send("push", payload);
        expect(first.status).toBe(202);
        const runs = await h.waitForRuns(first.id, 1);
        await h.waitForFinalStatuses(runs);
        const before = h.github.calls.length;
        const statusesBefore = h.github.statuses().map((s) => `${s.state} ${s.description}`);

        const again = await h.send("push", payload, first.id);
        expect(again.status).toBe(200);
        expect(again.text).toMatch(/duplicate/);
        // Give the worker and the reporter every chance to (wrongly) act, then check nothing happened.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await h.app.reporter.flush();
        expect(await h.app.store.runsForDelivery(first.id)).toHaveLength(1);
        expect(h.github.statuses().map((s) => `${s.state} ${s.description}`)).toEqual(statusesBefore);
        expect(h.github.calls).toHaveLength(before);
        checkContext(h.github, {
          run: runs[0] as (typeof runs)[0],
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "success", description: PASSED },
        });
      },
    );
  });

  it("a step over its timeout fails the run as timed out and leaves no process behind", async () => {
    await withHarness(
      {
        configYaml: `
version: 1
pipelines:
  slow:
    steps:
      - name: Sleep
        run: echo "going to sleep"; sleep 30 & sleep 30
        timeout: 2s
rules:
  - name: slow main
    on: { push: { branches: [main] } }
    run: [slow]
`,
      },
      async (h) => {
        const sha = await h.work.commit({ "app.txt": "v1\n" });
        await h.work.push("main");
        const answer = await h.send("push", h.pushPayload(sha));
        expect(answer.status).toBe(202);
        const [run] = await h.waitForRuns(answer.id, 1);
        if (!run) throw new Error("one run expected");
        expect(run.state).toBe("timed_out");
        await h.waitForFinalStatuses([run]);
        checkContext(h.github, {
          run,
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "failure", description: /^Timed out: Sleep\b.*\b2s\b/ },
        });
        // Both sleeps (the foreground one and the background one) are gone with the step.
        await poll(
          "the step's processes to go away",
          async () => (await processesOfRun(run.id)).length === 0,
          5000,
        );
        const page = await h.get(`/runs/${run.id}`);
        expect(page.status).toBe(200);
        expect(page.text).toContain("Sleep");
        expect(page.text).toContain("going to sleep");
      },
    );
  });

  it("a newer push supersedes a queued run for the same environment; running deploys never overlap", async () => {
    await withHarness(
      {
        configYaml: (scratch) => `
version: 1
pipelines:
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: |
          echo "start $DEPLOYBOT_SHA" >> "$TRACE"
          i=0
          while [ ! -f "$GATE" ]; do i=$((i+1)); [ "$i" -lt 400 ] || exit 3; sleep 0.05; done
          echo "end $DEPLOYBOT_SHA" >> "$TRACE"
        env: { GATE: "${path.join(scratch, "gate")}", TRACE: "${path.join(scratch, "trace")}" }
rules:
  - name: deploy main
    on: { push: { branches: [main] } }
    run: [deploy]
`,
      },
      async (h) => {
        const gate = path.join(h.scratch, "gate");
        const trace = path.join(h.scratch, "trace");
        const sha1 = await h.work.commit({ "app.txt": "v1\n" });
        await h.work.push("main");
        const push1 = await h.send("push", h.pushPayload(sha1));
        expect(push1.status).toBe(202);
        // The first deploy is running (and blocked on the gate) before the next pushes arrive.
        await poll("the first deploy to start", async () =>
          existsSync(trace) ? (await readFile(trace, "utf8")).includes(`start ${sha1}`) : false,
        );
        const sha2 = await h.work.commit({ "app.txt": "v2\n" });
        await h.work.push("main");
        const push2 = await h.send("push", h.pushPayload(sha2, "main", sha1));
        // Its check is on the commit (pending, waiting for the environment) before the third push replaces it.
        await poll("the second push's first status", () => h.github.statuses(sha2).length > 0);
        const sha3 = await h.work.commit({ "app.txt": "v3\n" });
        await h.work.push("main");
        const push3 = await h.send("push", h.pushPayload(sha3, "main", sha2));
        expect([push2.status, push3.status]).toEqual([202, 202]);
        // Its "Queued" is on GitHub before the gate opens (a state gone by before its write is not sent).
        await poll("the third push's first status", () => h.github.statuses(sha3).length > 0);
        const [run2] = await h.waitForRuns(push2.id, 1);
        expect(run2?.state).toBe("superseded");
        await writeFile(gate, "go\n");

        const [run1] = await h.waitForRuns(push1.id, 1);
        const [run3] = await h.waitForRuns(push3.id, 1);
        if (!run1 || !run2 || !run3) throw new Error("three runs expected");
        expect([run1.state, run3.state]).toEqual(["passed", "passed"]);
        await h.waitForFinalStatuses([run1, run2, run3]);

        checkContext(h.github, {
          run: run1,
          first: { state: "pending", description: FIRST_RUNNABLE },
          last: { state: "success", description: PASSED },
        });
        checkContext(h.github, {
          run: run2,
          first: { state: "pending", description: "Queued" },
          last: { state: "error", description: `Superseded by ${sha3.slice(0, 7)}` },
        });
        checkContext(h.github, {
          run: run3,
          first: { state: "pending", description: "Queued" },
          last: { state: "success", description: PASSED },
        });
        // Never overlapping: the second deploy that ran started after the first ended; the superseded one never ran.
        expect((await readFile(trace, "utf8")).trim().split("\n")).toEqual([
          `start ${sha1}`,
          `end ${sha1}`,
          `start ${sha3}`,
          `end ${sha3}`,
        ]);
        expect(run2.startedAt).toBeNull();
        expect(run3.startedAt?.getTime()).toBeGreaterThanOrEqual(run1.finishedAt?.getTime() ?? Infinity);
        const page = await h.get(`/runs/${run2.id}`);
        expect(page.status).toBe(200);
        expect(page.text).toContain(`Superseded by ${sha3.slice(0, 7)}`);
      },
    );
  });
});
