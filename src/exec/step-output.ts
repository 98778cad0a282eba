/**
 * `DEPLOYBOT_OUTPUT` (README, "What a step sees"): each step gets the path of a fresh, empty file outside the
 * checkout to which it may append `key=value` lines; after the step the runner reads it back. The file is
 * hostile input — the step may have written anything, huge, binary, CRLF, or replaced the file with a symlink
 * or a FIFO — so it is read without following links or blocking, at most `OUTPUT_MAX_BYTES`, and only keys we
 * know, with values we can check, are taken. Everything else is ignored with a note in the step's log.
 */
import { constants } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type MaskValues, maskText } from "./mask-secrets.ts";

/** Bytes of the output file read; the rest is ignored (with a note). */
export const OUTPUT_MAX_BYTES = 64 * 1024;
/** Longest `environment_url` taken (GitHub stores longer ones, but no real environment needs them). */
export const ENVIRONMENT_URL_MAX = 2048;

/** What a step reported; absent keys were not reported (or not valid). */
export interface StepOutput {
  readonly environmentUrl?: string;
  /** Why lines were ignored, in words for the step's log (never the ignored value itself). */
  readonly problems: readonly string[];
}

/** Why `value` cannot be an environment URL, or undefined when it can. */
export function environmentUrlProblem(value: string): string | undefined {
  if (value.length > ENVIRONMENT_URL_MAX) return `longer than ${ENVIRONMENT_URL_MAX} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return "contains whitespace or control characters";
  if (value.includes("\uFFFD")) return "not valid UTF-8";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "not an http(s) URL";
  if (url.username || url.password) return "carries credentials";
  return undefined;
}

/** The recognised `key=value` lines of an output file's bytes; later lines win. */
export function parseStepOutput(bytes: Buffer, mask: MaskValues = {}): StepOutput {
  const problems: string[] = [];
  let environmentUrl: string | undefined;
  let text = bytes.subarray(0, OUTPUT_MAX_BYTES).toString("utf8");
  if (bytes.length > OUTPUT_MAX_BYTES) {
    problems.push(`only the first ${OUTPUT_MAX_BYTES} bytes were read`);
    text = text.slice(0, text.lastIndexOf("\n") + 1); // a line cut in the middle is not taken
  }
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    const key = eq === -1 ? "" : line.slice(0, eq).trim();
    if (key !== "environment_url") {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) problems.push(`line ${index + 1} is not key=value`);
      continue;
    }
    const value = line.slice(eq + 1).trim();
    const problem =
      environmentUrlProblem(value) ?? (maskText(value, mask) === value ? undefined : "contains a secret");
    if (problem) problems.push(`environment_url on line ${index + 1} ignored: ${problem}`);
    else environmentUrl = new URL(value).href;
  }
  return { ...(environmentUrl === undefined ? {} : { environmentUrl }), problems };
}

/** Creates (or empties) the output file of step `index` under `dir`, and returns its path. */
export async function freshOutputFile(dir: string, index: number): Promise<string> {
  const file = path.join(dir, `step-${index}.env`);
  // Whatever an earlier step left at this name (a symlink, a directory) goes first; then a new empty file.
  await rm(file, { recursive: true, force: true });
  await writeFile(file, "", { flag: "wx", mode: 0o600 });
  return file;
}

/**
 * Reads at most `OUTPUT_MAX_BYTES + 1` bytes of `file`, never following a symlink, never blocking on a FIFO
 * or device; anything that is not a regular file reads as empty with a problem.
 */
export async function readStepOutput(file: string, mask: MaskValues = {}): Promise<StepOutput> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { problems: [] };
    return { problems: [`DEPLOYBOT_OUTPUT could not be read (${code ?? "error"})`] };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { problems: ["DEPLOYBOT_OUTPUT is not a regular file"] };
    const buffer = Buffer.alloc(Math.min(stats.size, OUTPUT_MAX_BYTES + 1));
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return parseStepOutput(buffer.subarray(0, read), mask);
  } finally {
    await handle.close();
  }
}
