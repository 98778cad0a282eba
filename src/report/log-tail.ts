/** The last lines of a (possibly enormous) log, cheaply: only the end of the string is ever looked at. */
import { truncateText } from "./truncate-text.ts";

/** A log line longer than this is cut (a minified bundle or a progress bar on one line). */
export const LOG_LINE_MAX = 300;

/** Raw characters looked at per wanted line: lines longer than this on average mean fewer lines are shown. */
const WINDOW_PER_LINE = 4096;

/**
 * Last `lines` lines of `text`, each cut to `LOG_LINE_MAX` characters, without ANSI colour codes or stray
 * control characters (tabs kept). Works in time proportional to the tail, not the log: a 200 MB log costs
 * the same as a small one. Trailing empty lines are ignored.
 */
export function lastLines(text: string, lines: number): string[] {
  if (lines <= 0) return [];
  const window = text.slice(-(lines + 1) * WINDOW_PER_LINE);
  const cutAtStart = window.length < text.length;
  const all = window.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n");
  // The first line of a window that starts mid-log is partial; keep it only if it is all there is.
  if (cutAtStart && all.length > 1) all.shift();
  return all.slice(-lines).map((line) => truncateText(cleanLogLine(line), LOG_LINE_MAX));
}

function cleanLogLine(line: string): string {
  return line
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, "")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g, "");
}
