/**
 * Checks on every value from a webhook payload before it goes near git. Pure functions returning a reason
 * (or null when fine) so callers can turn them into typed errors and tests can cover them without git.
 */
import { isCommitSha } from "../events/commit-sha.ts";

/** A full commit id (40 or 64 hex); abbreviations and expressions (`HEAD~1`, `main`) are refused. */
export function shaProblem(sha: string): string | null {
  return isCommitSha(sha) ? null : "the commit id must be 40 or 64 lowercase hex characters";
}

/**
 * A fully qualified ref (`refs/…`) that `git check-ref-format` would accept, and stricter: no component
 * starts with `-` (so it can never be read as an option) and nothing outside printable ASCII except
 * ordinary UTF-8 letters.
 */
export function refProblem(ref: string): string | null {
  if (!ref.startsWith("refs/")) return "the ref must start with refs/";
  if (ref.length > 1024) return "the ref is too long";
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return "the ref contains a character git does not allow";
  if (ref.includes("..")) return 'the ref contains ".."';
  if (ref.includes("@{") || ref === "@") return 'the ref contains "@{"';
  if (ref.endsWith("/") || ref.endsWith(".")) return "the ref ends with / or .";
  for (const part of ref.split("/")) {
    if (part === "") return "the ref contains an empty component";
    if (part.startsWith(".")) return "a ref component starts with .";
    if (part.startsWith("-")) return "a ref component starts with -";
    if (part.endsWith(".lock")) return "a ref component ends with .lock";
  }
  return null;
}

/** `owner/name` as GitHub allows it; also keeps the mirror path inside the mirrors directory. */
export function repoNameProblem(fullName: string): string | null {
  const parts = fullName.split("/");
  if (parts.length !== 2) return "the repository must be owner/name";
  for (const part of parts) {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(part) || part === "." || part === ".." || part.startsWith("-")) {
      return "the repository name contains characters GitHub does not allow";
    }
  }
  return null;
}

/**
 * The clone URL must be http(s) (github.com or GHES) without credentials in it; `file://` only when the
 * caller allows it (tests, local runs). Anything else (`ext::`, `ssh://`, `-u…`, a bare path) is refused.
 */
export function cloneUrlProblem(cloneUrl: string, allowFileUrls: boolean): string | null {
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    return "the clone URL is not a URL";
  }
  if (url.protocol === "file:") return allowFileUrls ? null : "file:// clone URLs are not allowed";
  if (url.protocol !== "https:" && url.protocol !== "http:") return "the clone URL must be http or https";
  if (url.username || url.password) return "the clone URL must not carry credentials";
  return null;
}
