/** Cutting user-controlled text to GitHub's limits without producing broken characters. */

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * Cuts `text` to at most `max` UTF-16 code units (the strictest way GitHub may count), ending with `…` when
 * cut. Cuts only between grapheme clusters, so an astral character (emoji, CJK extension) or a character with
 * its combining marks is never split in half — a lone surrogate would make GitHub reject the request.
 */
export function truncateText(text: string, max: number, ellipsis = "…"): string {
  if (text.length <= max) return text;
  const budget = max - ellipsis.length;
  if (budget <= 0) return ellipsis.slice(0, Math.max(0, max));
  // Only the start matters: segmenting a 200 MB string would be wasted work.
  const head = text.slice(0, budget + 64);
  let out = "";
  for (const { segment } of graphemes.segment(head)) {
    if (out.length + segment.length > budget) break;
    out += segment;
  }
  return out + ellipsis;
}

/**
 * One line of plain text: control characters (including newlines, tabs, ANSI escapes' ESC) and Unicode line
 * separators become spaces, runs of whitespace collapse. Statuses and table cells must stay on one line.
 */
export function singleLine(text: string): string {
  return text
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
