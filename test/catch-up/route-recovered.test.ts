import { describe, expect, it } from "vitest";
import { routeRecovered } from "../../src/catch-up/route-recovered.ts";
import type { DeliveryOutcome } from "../../src/observe/metrics.ts";

describe("routeRecovered", () => {
  it.each([
    ["accepted", "recovered"],
    ["ignored", "ignored"],
    ["duplicate", "duplicate"],
  ] as const)("the router's %s is counted and returned as %s", async (routed, expected) => {
    const counted: [string | undefined, DeliveryOutcome][] = [];
    const route = routeRecovered(async (_delivery, count) => count("push", routed), {
      delivery: (event, outcome) => counted.push([event, outcome]),
    });
    expect(await route({ id: "g", name: "push", payload: {} })).toBe(expected);
    expect(counted).toEqual([["push", expected]]);
  });
});
