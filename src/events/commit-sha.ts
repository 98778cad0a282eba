/** A full commit id: 40 hex (SHA-1) or 64 hex (SHA-256 repositories), lowercase as GitHub sends them. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(value);
}
