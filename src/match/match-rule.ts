/**
 * Decides whether one rule matches one event, with GitHub Actions `on.push` / `on.pull_request` semantics.
 * Pure: the caller supplies the changed files (or learns that it must list them first).
 */
import type { PullRequestFilterConfig, PushFilterConfig, RuleConfig } from "../config/schema.ts";
import type {
  ChangedFiles,
  DeployEvent,
  PullRequestEvent,
  PushEvent,
  ScheduleEvent,
} from "../events/deploy-event.ts";
import { PR_FILES_NOT_LISTED } from "../events/normalise-pull-request.ts";
import { ruleCoversRepo } from "./match-repos.ts";
import { listMatches, showList } from "./pattern-list.ts";

export type RuleMatch =
  /** `note` says when a filter could not be applied (changed files unknown). */
  | { readonly matched: true; readonly note?: string }
  | { readonly matched: false; readonly reason: string }
  /** A pull request rule filters on paths and the PR's files have not been listed yet. */
  | { readonly needsChangedFiles: true };

const no = (reason: string): RuleMatch => ({ matched: false, reason });

/**
 * Matches a rule against an event. Unknown changed files never mean "no files": for a pull request whose
 * files were not listed yet the answer is `needsChangedFiles`; otherwise (new branch, forced push, truncated
 * commit list, a PR over GitHub's 3,000-file listing cap) the path filter is not applied and the rule matches
 * with a note, because skipping a needed deploy is worse than one extra run.
 */
export function matchRule(rule: RuleConfig, event: DeployEvent): RuleMatch {
  if (!ruleCoversRepo(rule, event.repo.fullName)) {
    return no(`repository ${event.repo.fullName} does not match repos ${showList(rule.repos ?? [])}`);
  }
  if (event.kind === "schedule") return matchSchedule(rule, event);
  return event.kind === "push"
    ? matchPush(rule.on.push, event)
    : matchPullRequest(rule.on.pull_request, event);
}

/** A tick belongs to one rule: the one whose schedule fired (other scheduled rules have their own ticks). */
function matchSchedule(rule: RuleConfig, event: ScheduleEvent): RuleMatch {
  if (!rule.on.schedule) return no("the rule has no schedule");
  if (rule.name !== event.rule) return no(`the tick is rule "${event.rule}"'s, not this rule's`);
  return { matched: true };
}

function matchPush(filter: PushFilterConfig | undefined, event: PushEvent): RuleMatch {
  if (!filter) return no("the rule has no push trigger");
  const filtersBranches = filter.branches !== undefined || filter["branches-ignore"] !== undefined;
  const filtersTags = filter.tags !== undefined || filter["tags-ignore"] !== undefined;
  if (event.tag !== undefined) {
    if (filtersBranches && !filtersTags)
      return no(`tag push "${event.tag}", but the rule only filters branches`);
    const refProblem = refFilterProblem("tag", event.tag, filter.tags, filter["tags-ignore"]);
    if (refProblem) return no(refProblem);
    // GitHub Actions does not evaluate path filters for tag pushes.
    return { matched: true };
  }
  const branch = event.branch ?? "";
  if (filtersTags && !filtersBranches) return no(`branch push "${branch}", but the rule only filters tags`);
  const refProblem = refFilterProblem("branch", branch, filter.branches, filter["branches-ignore"]);
  if (refProblem) return no(refProblem);
  return matchPaths(filter, event.changedFiles, false);
}

function matchPullRequest(filter: PullRequestFilterConfig | undefined, event: PullRequestEvent): RuleMatch {
  if (!filter) return no("the rule has no pull_request trigger");
  if (!(filter.types as readonly string[]).includes(event.action)) {
    return no(`action "${event.action}" is not in types ${showList(filter.types)}`);
  }
  if (event.draft && !filter.drafts) return no("the pull request is a draft and the rule has drafts: false");
  const refProblem = refFilterProblem(
    "base branch",
    event.baseBranch,
    filter.branches,
    filter["branches-ignore"],
  );
  if (refProblem) return no(refProblem);
  const listable = !event.changedFiles.known && event.changedFiles.reason === PR_FILES_NOT_LISTED;
  return matchPaths(filter, event.changedFiles, listable);
}

function refFilterProblem(
  what: string,
  name: string,
  include: readonly string[] | undefined,
  ignore: readonly string[] | undefined,
): string | undefined {
  const key = what === "tag" ? "tags" : "branches";
  if (include && !listMatches(include, name))
    return `${what} "${name}" does not match ${key} ${showList(include)}`;
  if (ignore && listMatches(ignore, name))
    return `${what} "${name}" matches ${key}-ignore ${showList(ignore)}`;
  return undefined;
}

function matchPaths(
  filter: { readonly paths?: readonly string[]; readonly "paths-ignore"?: readonly string[] },
  changed: ChangedFiles,
  listable: boolean,
): RuleMatch {
  const paths = filter.paths;
  const ignore = filter["paths-ignore"];
  if (!paths && !ignore) return { matched: true };
  if (!changed.known) {
    if (listable) return { needsChangedFiles: true };
    const which = paths ? "paths" : "paths-ignore";
    return { matched: true, note: `changed files unknown (${changed.reason}): ${which} filter not applied` };
  }
  if (paths && !changed.files.some((file) => listMatches(paths, file))) {
    return no(
      changed.files.length === 0
        ? `no files changed, so none matches paths ${showList(paths)}`
        : changed.files.length === 1
          ? `the changed file does not match paths ${showList(paths)}`
          : `none of the ${changed.files.length} changed files matches paths ${showList(paths)}`,
    );
  }
  if (ignore && changed.files.every((file) => listMatches(ignore, file))) {
    return no(
      changed.files.length === 0
        ? `no files changed (paths-ignore ${showList(ignore)} skips a change with no files)`
        : changed.files.length === 1
          ? `the changed file matches paths-ignore ${showList(ignore)}`
          : `all ${changed.files.length} changed files match paths-ignore ${showList(ignore)}`,
    );
  }
  return { matched: true };
}
