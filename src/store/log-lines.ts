/** The last `count` lines of a text, without the trailing newline (for PR comments on failed steps). */
export function lastLines(text: string, count: number): string {
  if (count <= 0) return "";
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-count).join("\n");
}
