/**
 * End to end, observability: the real app serves `/metrics` (parsed with an independent Prometheus parser)
 * whose counters equal what the scenario did, behind `METRICS_TOKEN`; `/healthz` and `/readyz` answer, and
 * `/readyz` turns 503 as soon as shutdown begins, while the server still listens.
 */
import { createHmac, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseScrape } from "../helpers/scrape.ts";
import { startHarness, withHarness } from "./harness.ts";

const METRICS_TOKEN = "metrics-token-e2e-0123456789";

describe.concurrent("e2e: observability", () => {
  it("/metrics counts deliveries by outcome and runs by final state, behind METRICS_TOKEN", async () => {
    await withHarness(
      {
        metricsToken: METRICS_TOKEN,
        configYaml: `
version: 1
pipelines:
  ok:
    steps:
      - name: Pass
        run: echo fine
  broken:
    steps:
      - name: Fail
        run: exit 3
rules:
  - name: main
    on:
      push:
        branches: [main]
    run: [ok, broken]
`,
      },
      async (h) => {
        const scrape = async () => {
          const response = await fetch(`${h.url}/metrics`, {
            headers: { authorization: `Bearer ${METRICS_TOKEN}` },
          });
          expect(response.status).toBe(200);
          expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
          return parseScrape(await response.text());
        };

        // Before anything happened: the contract's metrics exist, counters at zero, process defaults there.
        const before = await scrape();
        expect(before.value("deploybot_runs_queued")).toBe(0);
        expect(before.labelSets("deploybot_webhook_deliveries_total")).toEqual([]);
        expect(before.families.map((f) => f.name)).toEqual(
          expect.arrayContaining(["process_cpu_user_seconds_total", "nodejs_heap_size_used_bytes"]),
        );

        // Two accepted pushes to main (one after the other, so the second supersedes nothing).
        const first = await h.work.commit({ "a.txt": "1\n" });
        await h.work.push("main");
        const one = await h.send("push", h.pushPayload(first));
        expect(one.status).toBe(202);
        await h.waitForFinalStatuses(await h.waitForRuns(one.id, 2));
        const second = await h.work.commit({ "a.txt": "2\n" });
        await h.work.push("main");
        const two = await h.send("push", h.pushPayload(second));
        expect(two.status).toBe(202);
        const runs = await h.waitForRuns(two.id, 2);
        expect(runs.map((run) => `${run.pipeline}:${run.state}`)).toEqual(["ok:passed", "broken:failed"]);
        await h.waitForFinalStatuses(runs);

        // One ignored (another branch), one duplicate, one rejected (bad signature).
        expect((await h.send("push", h.pushPayload(second, "feature/x"))).status).toBe(202);
        expect((await h.send("push", h.pushPayload(first), one.id)).status).toBe(200);
        const forged = await fetch(`${h.url}/api/github/webhooks`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": randomUUID(),
            "x-hub-signature-256": `sha256=${createHmac("sha256", "not-the-secret").update("{}").digest("hex")}`,
          },
          body: "{}",
        });
        expect(forged.status).toBe(401);

        const after = await scrape();
        const deliveries = "deploybot_webhook_deliveries_total";
        expect(after.value(deliveries, { event: "push", outcome: "accepted" })).toBe(2);
        expect(after.value(deliveries, { event: "push", outcome: "ignored" })).toBe(1);
        expect(after.value(deliveries, { event: "push", outcome: "duplicate" })).toBe(1);
        expect(after.value(deliveries, { event: "push", outcome: "rejected" })).toBe(1);
        expect(after.labelSets(deliveries)).toHaveLength(4);
        expect(after.histogramCount("deploybot_webhook_ack_seconds")).toBe(4);

        const finished = "deploybot_runs_finished_total";
        expect(after.value(finished, { pipeline: "ok", state: "passed" })).toBe(2);
        expect(after.value(finished, { pipeline: "broken", state: "failed" })).toBe(2);
        expect(after.labelSets(finished)).toHaveLength(2);
        expect(after.histogramCount("deploybot_run_duration_seconds", { pipeline: "ok" })).toBe(2);
        expect(after.histogramCount("deploybot_run_duration_seconds", { pipeline: "broken" })).toBe(2);
        expect(after.value("deploybot_runs_queued")).toBe(0);

        // Every GitHub call the fake answered is counted by status (tokens 201, statuses 201).
        const githubCalls = h.github.calls.length;
        expect(githubCalls).toBeGreaterThan(0);
        expect(after.value("deploybot_github_requests_total", { status: "201" })).toBe(githubCalls);

        // No label value carries a SHA or a delivery id.
        const text = await (
          await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
        ).text();
        for (const secretish of [first, second, one.id, two.id]) expect(text).not.toContain(secretish);
      },
    );
  });

  it("/metrics with METRICS_TOKEN set refuses a missing, wrong, other-scheme or oversized header with 401", async () => {
    // No webhook is sent, so the fake GitHub's interceptors go unused: stop the harness without that check.
    const h = await startHarness({
      metricsToken: METRICS_TOKEN,
      configYaml: "version: 1\npipelines: {}\nrules: []\n",
    });
    try {
      const refused: Record<string, string | undefined> = {
        "no header": undefined,
        "a wrong token": `Bearer ${METRICS_TOKEN}x`,
        "a prefix of the token": `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
        "another scheme": `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}`,
        "the token without a scheme": METRICS_TOKEN,
        "an oversized header": `Bearer ${"a".repeat(8000)}`,
      };
      for (const [what, authorization] of Object.entries(refused)) {
        const response = await fetch(`${h.url}/metrics`, {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect([what, response.status, await response.text()]).toEqual([what, 401, "unauthorized\n"]);
      }
      const ok = await fetch(`${h.url}/metrics`, { headers: { authorization: `bearer ${METRICS_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(parseScrape(await ok.text()).value("deploybot_runs_queued")).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it("/healthz is ok, /readyz is ready, and /readyz answers 503 once stop has begun", async () => {
    const h = await startHarness({ drainMs: 1500, configYaml: "version: 1\npipelines: {}\nrules: []\n" });
    try {
      {
        expect(await h.get("/healthz")).toMatchObject({ status: 200, text: "ok\n" });
        expect(await h.get("/readyz")).toMatchObject({ status: 200, text: "ready\n" });
        expect((await h.get("/metrics")).status).toBe(200); // no METRICS_TOKEN: open

        const stopping = h.app.stop();
        try {
          expect(await h.get("/readyz")).toMatchObject({ status: 503, text: "shutting down\n" });
          expect(await h.get("/healthz")).toMatchObject({ status: 200, text: "ok\n" });
        } finally {
          await stopping;
        }
      }
    } finally {
      await h.stop();
    }
  });
});
