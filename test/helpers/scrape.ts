/**
 * Reads Prometheus text with an independent parser (not prom-client, not a regex).
 * The parser folds every series of a histogram into one unlabelled sample (it only handles unlabelled
 * histograms), so histograms are read a second time with their `# TYPE` line dropped: their `_bucket`,
 * `_sum` and `_count` series then parse as untyped families with their labels intact.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";

export interface Scrape {
  readonly families: ParsedFamily[];
  /** The value of the one sample of `name` whose labels are exactly `labels`; 0 when there is none. */
  value(name: string, labels?: Record<string, string>): number;
  /** The `_count` of the histogram sample with exactly these labels; 0 when there is none. */
  histogramCount(name: string, labels?: Record<string, string>): number;
  /** Every label set `name` has samples for. */
  labelSets(name: string): Record<string, string>[];
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string>): boolean => {
  const left = a ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(b).length && keys.every((key) => left[key] === b[key]);
};

export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const histograms = new Set(families.filter((f) => f.type === "HISTOGRAM").map((f) => f.name));
  const untyped = parsePrometheusTextFormat(
    text
      .split("\n")
      .filter((line) => !histograms.has(line.split(" ")[2] ?? "") || !line.startsWith("# TYPE "))
      .join("\n"),
  );
  // Untyped, a histogram's series interleave (`_bucket`, `_sum`, `_count` per label set), so one name can
  // appear as several consecutive families: read them together.
  const samplesOf = (name: string) => untyped.filter((f) => f.name === name).flatMap((f) => f.metrics);
  const sample = (name: string, labels: Record<string, string>) =>
    samplesOf(name).find((m) => sameLabels(m.labels, labels));
  return {
    families,
    value: (name, labels = {}) => Number(sample(name, labels)?.value ?? 0),
    histogramCount: (name, labels = {}) => {
      if (!histograms.has(name)) throw new Error(`${name} is not a histogram`);
      return Number(sample(`${name}_count`, labels)?.value ?? 0);
    },
    labelSets: (name) => samplesOf(name).map((m) => ({ ...m.labels })),
  };
}
