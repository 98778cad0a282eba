import { readFile } from "node:fs/promises";
import { emitterEventNames } from "@octokit/webhooks";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { HANDLED_EVENTS, PIPELINE_EVENTS } from "../../src/events/webhook-events.ts";

const appYml = parse(await readFile(new URL("../../app.yml", import.meta.url), "utf8")) as {
  default_events: string[];
};
const known = new Set<string>(emitterEventNames);

describe("app.yml subscriptions", () => {
  it.each(appYml.default_events)("subscribes to %s, an event GitHub's webhook schema names", (event) => {
    expect(known.has(event)).toBe(true);
  });

  it.each(HANDLED_EVENTS)("subscribes to %s, which the router handles", (event) => {
    expect(appYml.default_events).toContain(event);
  });

  it("does not subscribe to the Deployments the bot itself creates (no loops)", () => {
    expect(appYml.default_events).not.toContain("deployment");
    expect(appYml.default_events).not.toContain("deployment_status");
    expect(HANDLED_EVENTS).not.toContain("deployment");
    expect(HANDLED_EVENTS).not.toContain("deployment_status");
  });

  it("asks for deployments: write", async () => {
    const manifest = parse(await readFile(new URL("../../app.yml", import.meta.url), "utf8")) as {
      default_permissions: Record<string, string>;
    };
    expect(manifest.default_permissions.deployments).toBe("write");
  });

  it("handles every pipeline event", () => {
    for (const event of PIPELINE_EVENTS) expect(HANDLED_EVENTS).toContain(event);
  });
});
