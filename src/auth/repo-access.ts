/**
 * Which repositories a logged-in user may see, cached for a few minutes per token and asked again once the
 * entry expires; concurrent requests of one user share one lookup. Names are lower-cased: GitHub's are not
 * case-sensitive.
 */
import { createHash } from "node:crypto";

export interface RepoAccess {
  /** Lower-cased `owner/name` of every repository the token's user can read. */
  readable(token: string): Promise<ReadonlySet<string>>;
  /** Forgets the token's entry (logout). */
  forget(token: string): void;
}

export interface RepoAccessOptions {
  readonly list: (token: string) => Promise<readonly string[]>;
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export function cachedRepoAccess(options: RepoAccessOptions): RepoAccess {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { expires: number; repos: Promise<ReadonlySet<string>> }>();
  const keyOf = (token: string) => createHash("sha256").update(token).digest("base64url");
  return {
    readable(token) {
      const key = keyOf(token);
      const cached = entries.get(key);
      if (cached && cached.expires > now()) return cached.repos;
      entries.delete(key);
      const repos = options
        .list(token)
        .then((names) => new Set(names.map((name) => name.toLowerCase())) as ReadonlySet<string>);
      entries.set(key, { expires: now() + ttlMs, repos });
      // A failed lookup is not remembered.
      repos.catch(() => {
        if (entries.get(key)?.repos === repos) entries.delete(key);
      });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return repos;
    },
    forget(token) {
      entries.delete(keyOf(token));
    },
  };
}
