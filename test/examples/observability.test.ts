/**
 * The observability examples stay true to the server: the Grafana dashboard parses, and every metric its
 * queries and the alert rules name is one the server's registry really has.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics } from "../../src/observe/metrics.ts";

const DIR = path.join(import.meta.dirname, "../../examples/observability");
/** Metric names in a PromQL expression: ours and the process defaults all start with one of these. */
const PREFIXES = ["deploybot_", "process_", "nodejs_"];
const HISTOGRAM_SERIES = ["_bucket", "_sum", "_count"];

/** Identifiers outside quoted strings that start like a metric name. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  let quote: string | undefined;
  let word = "";
  const flush = () => {
    if (PREFIXES.some((prefix) => word.startsWith(prefix))) names.push(word);
    word = "";
  };
  for (const char of expr) {
    if (quote) {
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === "`") {
      flush();
      quote = char;
    } else if (/[A-Za-z0-9_:]/.test(char)) word += char;
    else flush();
  }
  flush();
  return names;
}

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}
interface RuleFile {
  readonly groups: readonly {
    readonly rules: readonly { readonly alert: string; readonly expr: string }[];
  }[];
}

async function exampleExprs(): Promise<{ where: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(path.join(DIR, "grafana-dashboard.json"), "utf8")) as {
    panels: Panel[];
  };
  const rules = parse(await readFile(path.join(DIR, "alerts.yaml"), "utf8")) as RuleFile;
  return [
    ...dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })),
    ),
    ...rules.groups.flatMap((group) =>
      group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
    ),
  ];
}

describe("examples/observability", () => {
  it("names only metrics the registry has", async () => {
    const { registry } = createMetrics({ queuedRuns: async () => 0 });
    const histograms = new Set(
      (await registry.getMetricsAsJSON()).filter((m) => String(m.type) === "histogram").map((m) => m.name),
    );
    const exprs = await exampleExprs();
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    const missing: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      if (names.length === 0) missing.push(`${where}: no metric in ${expr}`);
      for (const name of names) {
        const suffix = HISTOGRAM_SERIES.find((s) => name.endsWith(s));
        const base = suffix ? name.slice(0, -suffix.length) : name;
        const known =
          (suffix !== undefined && histograms.has(base)) ||
          (!histograms.has(name) && registry.getSingleMetric(name) !== undefined);
        if (known) used.add(suffix !== undefined && histograms.has(base) ? base : name);
        else missing.push(`${where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // Every contract metric is on the dashboard.
    expect([...used].filter((name) => name.startsWith("deploybot_")).sort()).toEqual([
      "deploybot_github_requests_total",
      "deploybot_notifications_total",
      "deploybot_run_duration_seconds",
      "deploybot_runs_finished_total",
      "deploybot_runs_queued",
      "deploybot_webhook_ack_seconds",
      "deploybot_webhook_deliveries_total",
    ]);
  });

  it.each([
    ['sum(rate(deploybot_x_total{outcome="rejected"}[5m]))', ["deploybot_x_total"]],
    ['a{l="deploybot_in_a_string"} + process_y', ["process_y"]],
    ["histogram_quantile(0.9, sum by (le) (rate(deploybot_h_bucket[1h])))", ["deploybot_h_bucket"]],
  ])("finds the metric names in %s", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});
