/**
 * Making user-controlled text (branch names, pipeline and step names, log lines) inert in GitHub Markdown:
 * no formatting, links, HTML, math, table breaks or @-mentions (which would notify people or teams).
 */

/** A zero-width space: `@\u200borg/team` reads as `@org/team` but GitHub does not mention anyone. */
export const ZWSP = "\u200b";

/**
 * Escapes text for inline Markdown, including inside a table cell: Markdown punctuation is backslash-escaped,
 * `<`, `>` and `&` become entities, `$` cannot open math, `|` cannot end a cell, `@` cannot mention. The
 * result is one line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, " ")
    .replace(/[\\`*_[\]|~$]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@/g, `@${ZWSP}`);
}

/**
 * An inline code span that shows `text` literally (GitHub does not process mentions or HTML inside code).
 * The fence is longer than any backtick run inside. In a table cell (`inTable`) `|` is escaped, as GFM
 * requires even inside code; elsewhere the backslash would show, so it is left alone.
 */
export function codeSpan(text: string, inTable = false): string {
  const content = text.replace(/[\r\n\u2028\u2029]+/g, " ");
  const fence = "`".repeat(longestRun(content, "`") + 1);
  const pad = content.startsWith("`") || content.endsWith("`") || content.startsWith(" ") ? " " : "";
  return `${fence}${pad}${inTable ? content.replace(/\|/g, "\\|") : content}${pad}${fence}`;
}

/**
 * A fenced code block that cannot be closed early by its content: the backtick fence is longer than any
 * backtick run in the text (at least three).
 */
export function codeBlock(text: string, info = "text"): string {
  const fence = "`".repeat(Math.max(3, longestRun(text, "`") + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/** Length of the longest run of `char` in `text`. */
export function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of text) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
}

/** A URL safe to put in `[label](url)`: characters that could end the link or the table cell are encoded. */
export function markdownUrl(url: string): string {
  return url.replace(
    /[\s()<>|\\`"']/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}
