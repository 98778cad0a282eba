/**
 * Process suite, missed deliveries: pushes GitHub delivered while the bot was stopped (it could not connect)
 * are recovered through the deliveries API when it starts again — run once each, counted `recovered`; a
 * delivery the bot had acknowledged, an unhandled event and one older than the window are not fetched; a
 * redelivery (same GUID) is fetched once; another restart runs none of them again.
 */
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { type Scenario, withScenario } from "./scenario.ts";

const config = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "tests at $DEPLOYBOT_SHA"
rules:
  - name: test pushes
    on:
      push:
        branches: [main, other]
    run: [test]
`;

const WALK_DONE = '"msg":"catch-up walk done"';
const walks = (s: Scenario) => s.bot.output().split(WALK_DONE).length - 1;

export async function catchUpMissedDeliveries(): Promise<void> {
  await withScenario({ configYaml: config }, async (s) => {
    const { deliveries } = s.github;
    await waitFor("the start-up catch-up walk", () => walks(s) === 1);

    // A push the bot acknowledged: GitHub lists it as delivered.
    const live = await s.work.commit({ "src/app.txt": "live" });
    await s.work.push("main");
    const liveAnswer = await s.bot.send("push", s.pushPayload(live));
    expect(liveAnswer.text).toBe("accepted: 1 runs queued\n");
    deliveries.made("push", s.pushPayload(live), { guid: liveAnswer.id, statusCode: 202 });
    await s.finalStatuses(live, ["deploy-bot/test"]);
    await s.bot.stop();

    // While the bot is down GitHub cannot connect: two pushes (one redelivered by hand, still failing),
    // a label event, and a push older than the 3-day window.
    const first = await s.work.commit({ "src/app.txt": "first" });
    await s.work.push("main");
    const second = await s.work.commit({ "src/app.txt": "second" });
    await s.work.push("+HEAD:refs/heads/other");
    const missedFirst = deliveries.made("push", s.pushPayload(first));
    deliveries.made("label", { action: "created", label: { name: "x" } });
    const missedSecond = deliveries.made("push", { ...s.pushPayload(second), ref: "refs/heads/other" });
    const redelivered = deliveries.made("push", s.pushPayload(first), { guid: missedFirst.guid });
    const tooOld = deliveries.made("push", s.pushPayload("d".repeat(40)), {
      deliveredAt: new Date(Date.now() - 4 * 24 * 3600_000),
    });

    await s.restart();
    const finals = await Promise.all([first, second].map((sha) => s.finalStatuses(sha, ["deploy-bot/test"])));
    for (const final of finals)
      expect(final.get("deploy-bot/test")?.at(-1)).toMatchObject({ state: "success" });
    await waitFor("the catch-up walk after the restart", () => walks(s) === 1);
    // Each missed GUID fetched once (its first delivery), oldest first; nothing else.
    expect(deliveries.fetched).toEqual([missedFirst.id, missedSecond.id]);
    expect(deliveries.fetched).not.toContain(redelivered.id);
    expect(deliveries.fetched).not.toContain(tooOld.id);
    const metrics = await s.bot.get("/metrics");
    expect(metrics.text).toContain('deploybot_webhook_deliveries_total{event="push",outcome="recovered"} 2');
    const walkLine = s.bot
      .output()
      .split("\n")
      .find((line) => line.includes(WALK_DONE));
    expect(JSON.parse(walkLine ?? "{}")).toMatchObject({
      recovered: 2,
      recorded: 1,
      unhandled: 1,
      fetched: 2,
    });

    // Once only: a second restart walks again and runs nothing.
    const statusCount = s.github.statuses().length;
    await s.bot.stop();
    await s.restart();
    await waitFor("the catch-up walk after the second restart", () => walks(s) === 1);
    expect(deliveries.fetched).toEqual([missedFirst.id, missedSecond.id]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(s.github.statuses().length).toBe(statusCount);
    for (const sha of [first, second]) {
      // One run per recovered push: one run page, one final status.
      const mine = s.github.statuses({ sha });
      expect(new Set(mine.map((c) => c.target_url)).size).toBe(1);
      expect(mine.filter((c) => c.state === "success")).toHaveLength(1);
    }
  });
}
