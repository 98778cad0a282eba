/** A pull request's changed files through the GitHub API, for rules that filter on paths. */
import type { Octokit } from "@octokit/rest";
import type { ChangedFiles } from "../events/deploy-event.ts";

/** GitHub's "List pull requests files" endpoint returns at most this many files. */
export const PULL_REQUEST_FILES_LIMIT = 3000;

export type PullRequestFilesClient = Pick<Octokit, "request" | "rest">;

/**
 * Lists every file a pull request changes (all pages, 100 a page). A rename contributes both its new and its
 * old path, as GitHub Actions' path filters see both. At GitHub's 3,000-file cap the list may be incomplete,
 * so the result is "unknown" and path filters are not applied (see `matchRule`): never a silent "no files".
 * `signal` cancels the request in flight (and the pages after it).
 */
export async function listPullRequestFiles(
  octokit: PullRequestFilesClient,
  { owner, repo, pullNumber }: { owner: string; repo: string; pullNumber: number },
  signal?: AbortSignal,
): Promise<ChangedFiles> {
  // Pages followed by hand, as `octokit.paginate` does, because paginate drops the request's abort signal.
  type Entry = Awaited<ReturnType<Octokit["rest"]["pulls"]["listFiles"]>>["data"][number];
  const entries: Entry[] = [];
  let response: { data: Entry[]; headers: { link?: string } } = await octokit.rest.pulls.listFiles({
    owner,
    repo,
    pull_number: pullNumber,
    per_page: 100,
    request: { signal },
  });
  for (;;) {
    entries.push(...response.data);
    const next = /<([^<>]+)>;\s*rel="next"/.exec(response.headers.link ?? "")?.[1];
    if (!next) break;
    response = await octokit.request({ method: "GET", url: next, request: { signal } });
  }
  if (entries.length >= PULL_REQUEST_FILES_LIMIT) {
    return {
      known: false,
      reason: `the pull request changes ${entries.length} files or more: GitHub lists at most ${PULL_REQUEST_FILES_LIMIT}`,
    };
  }
  const files = new Set<string>();
  for (const entry of entries) {
    files.add(entry.filename);
    if (entry.previous_filename) files.add(entry.previous_filename);
  }
  return { known: true, files: [...files] };
}
