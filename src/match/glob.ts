/**
 * GitHub Actions filter globs (the "Filter pattern cheat sheet"), compiled once to a RegExp:
 * `*` any run of characters except `/`; `**` any run of characters; `**\/` zero or more directories;
 * `?` zero or one of the preceding character; `+` one or more of the preceding character;
 * `[…]` one character from a set or range; `\` escapes the next character. Anchored at both ends.
 */

export type CompiledGlob =
  | { readonly ok: true; readonly regex: RegExp }
  | { readonly ok: false; readonly error: string };

const cache = new Map<string, CompiledGlob>();
const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const escapeChar = (ch: string): string => ch.replace(REGEX_SPECIAL, "\\$&");

/**
 * Compiles a glob (without a leading `!`) to an anchored RegExp, cached by pattern and case mode, so matching
 * thousands of changed files against the same rule never recompiles. Returns an error for malformed globs
 * (an unclosed `[`, a trailing `\`) instead of throwing: the config loader reports it with a position.
 */
export function compileGlob(pattern: string, ignoreCase = false): CompiledGlob {
  const key = `${ignoreCase ? "i" : "s"}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result = translate(pattern, ignoreCase);
  cache.set(key, result);
  return result;
}

function translate(pattern: string, ignoreCase: boolean): CompiledGlob {
  let out = "";
  // Whether the last emitted token is a single character or class that `?` / `+` may quantify.
  let quantifiable = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        if (pattern[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
      quantifiable = false;
    } else if (ch === "?" || ch === "+") {
      out += quantifiable ? ch : escapeChar(ch);
      quantifiable = !quantifiable;
    } else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) return { ok: false, error: `unclosed "[" in pattern "${pattern}"` };
      const body = pattern.slice(i + 1, end);
      out += `[${body.replace(/[\\^\]]/g, "\\$&")}]`;
      i = end;
      quantifiable = true;
    } else if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return { ok: false, error: `pattern "${pattern}" ends with "\\"` };
      out += escapeChar(next);
      i += 1;
      quantifiable = true;
    } else {
      out += escapeChar(ch);
      quantifiable = true;
    }
  }
  try {
    return { ok: true, regex: new RegExp(`^${out}$`, ignoreCase ? "i" : "") };
  } catch (error) {
    return { ok: false, error: `invalid pattern "${pattern}": ${(error as Error).message}` };
  }
}

/** True when `value` matches the glob; a malformed glob matches nothing (the config loader rejects those). */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const compiled = compileGlob(pattern, ignoreCase);
  return compiled.ok && compiled.regex.test(value);
}
