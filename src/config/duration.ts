/** Durations in the config are written like `30s`, `10m`, `1h` or `1h30m`. */
export const DURATION_PATTERN = /^(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds for a config duration; throws on anything that is not `<n>h<n>m<n>s` (each part optional). */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (!match || text === "") throw new Error(`invalid duration "${text}": use e.g. 30s, 10m, 1h or 1h30m`);
  const [, h = "0", m = "0", s = "0"] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** Human form used in statuses and comments: `850ms`, `42s`, `1m 12s`, `2h 3m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return s > 0 ? `${m}m ${s}s` : `${m}m`;
  return `${s}s`;
}
