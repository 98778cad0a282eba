/**
 * A list of filter patterns as GitHub Actions evaluates it: patterns are read in order, a pattern starting
 * with `!` excludes what it matches, and the last pattern that matches a value decides.
 */
import { compileGlob, globMatches } from "./glob.ts";

/** Whether the list selects `value`: the last matching pattern wins; nothing matched means not selected. */
export function listMatches(patterns: readonly string[], value: string, ignoreCase = false): boolean {
  let selected = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    if (globMatches(glob, value, ignoreCase)) selected = !negated;
  }
  return selected;
}

/**
 * Why a pattern list can never work, or undefined. Used by the config schema so a list of only `!` patterns
 * (which selects nothing, as in GitHub Actions) or a malformed glob is a config error with a position.
 */
export function patternListProblem(patterns: readonly string[]): string | undefined {
  for (const pattern of patterns) {
    const glob = pattern.startsWith("!") ? pattern.slice(1) : pattern;
    if (glob === "") return `pattern "${pattern}" is empty`;
    const compiled = compileGlob(glob);
    if (!compiled.ok) return compiled.error;
  }
  if (patterns.length > 0 && patterns.every((pattern) => pattern.startsWith("!"))) {
    return 'a list of only "!" patterns matches nothing: put a positive pattern such as "**" first';
  }
  return undefined;
}

/** `[main, "releases/**"]`, for reasons shown to people. */
export const showList = (patterns: readonly string[]): string => `[${patterns.join(", ")}]`;
