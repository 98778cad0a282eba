/**
 * Reads `deploy.config.yaml` and reports every problem at once as `file:line:col: message`, the way compilers
 * do, so a user fixes the whole file in one pass: YAML syntax, duplicate keys, unknown keys, wrong types,
 * bad durations, unknown pipelines, duplicate names. The zod schema stays the single source of truth; this
 * file only maps zod issues back to positions in the YAML text and words them for people.
 */
import { readFile } from "node:fs/promises";
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { type Config, ConfigSchema } from "./schema.ts";

export interface ConfigError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** `file:line:col: message`, the format editors and CI logs turn into links. */
export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}

/** Loads and validates a config file; an unreadable file is reported like any other config error (at 1:1). */
export async function loadConfig(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT" ? "file not found" : `cannot read the file: ${(error as Error).message}`;
    return { ok: false, errors: [{ file, line: 1, col: 1, message }] };
  }
  return parseConfig(text, file);
}

type Segment = string | number;
type Doc = ReturnType<typeof parseDocument>;

/** Parses and validates config text; `file` is only used in the errors. Pure. */
export function parseConfig(text: string, file: string): ConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const errors: ConfigError[] = [];
  const at = (offset: number, message: string): void => {
    const { line, col } = lineCounter.linePos(offset);
    errors.push({ file, line: Math.max(line, 1), col: Math.max(col, 1), message });
  };

  for (const error of doc.errors) at(error.pos[0], `YAML syntax error: ${firstLine(error.message)}`);
  if (doc.errors.length > 0) return { ok: false, errors: sorted(errors) };

  for (const duplicate of duplicateKeys(doc)) at(duplicate.offset, duplicate.message);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    at(0, `YAML error: ${firstLine((error as Error).message)}`);
    return { ok: false, errors: sorted(errors) };
  }
  if (data === null || data === undefined) {
    at(0, 'the file is empty: it needs at least "version: 1" and "pipelines"');
    return { ok: false, errors: sorted(errors) };
  }

  const result = ConfigSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const issues = flattenUnions(result.error.issues);
    // A pipeline with an invalid name is reported once, not again by every rule that runs it.
    const badNames = issues.flatMap((issue) =>
      issue.code === "invalid_key" && issue.path.length === 2 && issue.path[0] === "pipelines"
        ? [String(issue.path[1])]
        : [],
    );
    for (const issue of issues) {
      const path = issue.path.filter((p): p is Segment => typeof p !== "symbol");
      if (
        issue.code === "custom" &&
        badNames.some((name) => issue.message.startsWith(`unknown pipeline "${name}"`))
      )
        continue;
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const node = findNode(doc, [...path, key], true);
          at(node.offset, unknownKeyMessage(key, path, knownKeys(issue.input)));
        }
        continue;
      }
      at(findNode(doc, path, issue.code === "invalid_key").offset, describeIssue(issue, path));
    }
  }
  if (errors.length > 0) return { ok: false, errors: sorted(errors) };
  if (!result.success) return { ok: false, errors: [{ file, line: 1, col: 1, message: "invalid config" }] };
  return { ok: true, config: result.data };
}

/**
 * A union fails as a whole, but when exactly one alternative had the right shape (`push: {branches: 5}` is
 * a mapping, not null), its own issues are what the user needs to read.
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union") return [issue];
    const shaped = issue.errors.filter(
      (errs) => !(errs.length === 1 && errs[0]?.code === "invalid_type" && errs[0].path.length === 0),
    );
    const only = shaped[0];
    if (shaped.length !== 1 || !only) return [issue];
    return flattenUnions(
      only.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue),
    );
  });
}

const firstLine = (message: string): string =>
  (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");

const sorted = (errors: ConfigError[]): ConfigError[] =>
  errors.sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));

/** `pipelines.test.steps[0].timeout`, the way people write a path into a YAML file. */
export function showPath(path: readonly Segment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const prefix = (path: readonly Segment[]): string => (path.length === 0 ? "" : `${showPath(path)}: `);

/**
 * The node at `path`, or the nearest ancestor that exists (a missing key is reported where it should go).
 * With `key`, the position of the last segment's key rather than its value (unknown keys).
 */
function findNode(doc: Doc, path: readonly Segment[], key: boolean): { offset: number } {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.findLast(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      node = pair.value;
      offset =
        (key && index === path.length - 1 ? rangeStart(pair.key) : rangeStart(pair.value)) ??
        rangeStart(pair.key) ??
        offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else break;
  }
  return { offset };
}

const rangeStart = (node: unknown): number | undefined =>
  typeof node === "object" && node !== null && "range" in node ? (node as Node).range?.[0] : undefined;

/** Duplicate keys in any mapping (YAML itself would keep the last one silently when asked to allow them). */
function duplicateKeys(doc: Doc): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  visit(doc, {
    Map(_key, map, ancestry) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        if (seen.has(name)) {
          const where = pathOf(ancestry, map);
          found.push({
            offset: rangeStart(pair.key) ?? 0,
            message: `duplicate key "${name}"${where === "" ? " at the top level" : ` in ${where}`}`,
          });
        }
        seen.add(name);
      }
    },
  });
  return found;
}

/** The config path of a map from the visitor's ancestry (document, pairs, sequences, maps). */
function pathOf(ancestry: readonly unknown[], target: unknown): string {
  const path: Segment[] = [];
  const chain = [...ancestry, target];
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (
      child &&
      typeof child === "object" &&
      "key" in child &&
      isScalar((child as { key: unknown }).key)
    ) {
      path.push(String((child as { key: { value: unknown } }).key.value));
    }
  }
  return showPath(path);
}

function knownKeys(input: unknown): string[] {
  return input && typeof input === "object" ? Object.keys(input) : [];
}

function unknownKeyMessage(key: string, path: readonly Segment[], present: readonly string[]): string {
  const where = path.length === 0 ? "at the top level" : `in ${showPath(path)}`;
  const candidates = KNOWN_KEYS.filter((known) => !present.includes(known) && editDistance(key, known) <= 2);
  const hint = candidates[0] ? ` (did you mean "${candidates[0]}"?)` : "";
  return `unknown key "${key}" ${where}${hint}`;
}

/** Every key the schema knows, for "did you mean" hints. */
const KNOWN_KEYS = [
  "version",
  "settings",
  "pipelines",
  "rules",
  "statusContext",
  "timeout",
  "concurrency",
  "retention",
  "days",
  "runs",
  "environment",
  "secrets",
  "env",
  "steps",
  "name",
  "run",
  "workdir",
  "repos",
  "on",
  "push",
  "pull_request",
  "forks",
  "branches",
  "branches-ignore",
  "tags",
  "tags-ignore",
  "paths",
  "paths-ignore",
  "types",
  "drafts",
  "notifications",
  "slack",
  "webhook",
  "url",
  "secret",
  "environments",
];

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

const DEFAULT_MESSAGE = /^(Invalid|Too small|Too big|Unrecognized|Expected)/;

const EXPECTED: Record<string, string> = {
  object: "a mapping",
  record: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value === "number" ? "the number" : "the value"} ${String(value)}`;
}

/** A human message for one zod issue, always naming the field. */
function describeIssue(issue: z.core.$ZodIssue, path: readonly Segment[]): string {
  const last = path[path.length - 1];
  const parent = path.slice(0, -1);
  const missable =
    issue.code === "invalid_type" || issue.code === "invalid_value" || issue.code === "invalid_union";
  if (missable && issue.input === undefined && last !== undefined) {
    const hint = last === "version" && parent.length === 0 ? ' (add "version: 1")' : "";
    return `${prefix(parent)}missing required key "${String(last)}"${hint}`;
  }
  if (!DEFAULT_MESSAGE.test(issue.message)) return `${prefix(path)}${issue.message}`;
  switch (issue.code) {
    case "invalid_type":
      return `${prefix(path)}expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `${prefix(path)}must be ${JSON.stringify(issue.values[0])}, got ${describeValue(issue.input)}`
        : `${prefix(path)}${JSON.stringify(issue.input)} is not one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      if (issue.origin === "array" || issue.origin === "string") {
        return Number(issue.minimum) <= 1
          ? `${prefix(path)}must not be empty`
          : `${prefix(path)}needs at least ${issue.minimum} ${issue.origin === "array" ? "items" : "characters"}`;
      }
      return `${prefix(path)}must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string"
        ? `${prefix(path)}must be at most ${issue.maximum} characters`
        : `${prefix(path)}must be at most ${issue.maximum}`;
    case "invalid_union": {
      const options = issue.errors.flatMap((errs) => {
        const first = errs[0];
        return first?.code === "invalid_type" ? [EXPECTED[first.expected] ?? first.expected] : [];
      });
      return `${prefix(path)}expected ${options.join(" or ") || "another value"}, got ${describeValue(issue.input)}`;
    }
    case "invalid_key":
      return `${prefix(parent)}invalid ${parent.at(-1) === "pipelines" ? "pipeline name" : "name"} ${JSON.stringify(last)}: ${issue.issues[0]?.message ?? "not allowed"}`;
    default:
      return `${prefix(path)}${issue.message}`;
  }
}
