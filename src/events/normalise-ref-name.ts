/**
 * A minimal sanity check on branch and tag names from webhooks. It is not git's full `check-ref-format`: the
 * execution layer validates again before any git command; this only keeps obviously hostile names out of the
 * plan (option-like names, path traversal, control characters).
 */

/** Why `name` is not an acceptable branch or tag name, or undefined when it is. */
export function refNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (/[\u0000-\u001f\u007f]/.test(name)) return "contains a control character";
  if (name.startsWith("-")) return 'starts with "-"';
  if (name.includes("..")) return 'contains ".."';
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "has an empty path component";
  if (name.endsWith(".lock") || name.endsWith(".")) return 'ends with ".lock" or "."';
  if (/[ ~^:?*[\\]/.test(name) || name.includes("@{")) return "contains a character git does not allow";
  return undefined;
}
