/** `repos:` globs on `owner/name`, case-insensitive like GitHub's own owner and repository names. */
import type { RuleConfig } from "../config/schema.ts";
import { listMatches } from "./pattern-list.ts";

/** Whether a rule applies to the repository at all; a rule without `repos` covers every installed repository. */
export function ruleCoversRepo(rule: Pick<RuleConfig, "repos">, fullName: string): boolean {
  return rule.repos === undefined || listMatches(rule.repos, fullName, true);
}
