/**
 * The fake GitHub's repositories and branch heads: `GET /repos/{owner}/{repo}` and
 * `GET /repos/{owner}/{repo}/branches/{branch}` (what a scheduled tick resolves). Tests set the clone URL
 * and move branch heads as they push to the real git remote.
 */
export interface RepositoryInfo {
  readonly cloneUrl: string;
  readonly defaultBranch: string;
  readonly private?: boolean;
}

export interface FakeRepositories {
  setRepository(repo: string, info: RepositoryInfo): void;
  setBranch(repo: string, branch: string, sha: string): void;
  /** The answer for a repository or branch route; `undefined` when the route is not one of these. */
  answer(
    route: string,
    repo: string,
    parts: readonly string[],
  ): { status: number; json: unknown } | undefined;
}

export class NotFound extends Error {}

export function fakeRepositories(): FakeRepositories {
  const repositories = new Map<string, RepositoryInfo & { branches: Map<string, string> }>();
  const find = (repo: string) => {
    const found = repositories.get(repo.toLowerCase());
    if (!found) throw new NotFound(`no repository ${repo}`);
    return found;
  };
  return {
    setRepository(repo, info) {
      const branches = repositories.get(repo.toLowerCase())?.branches ?? new Map<string, string>();
      repositories.set(repo.toLowerCase(), { ...info, branches });
    },
    setBranch(repo, branch, sha) {
      find(repo).branches.set(branch, sha);
    },
    answer(route, repo, parts) {
      const [owner = "", name = ""] = repo.split("/");
      if (route === "GET /repos/*/*") {
        const info = find(repo);
        return {
          status: 200,
          json: {
            id: 1296269,
            node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            name,
            full_name: repo,
            owner: { login: owner, id: 1, type: "User" },
            private: info.private ?? false,
            clone_url: info.cloneUrl,
            default_branch: info.defaultBranch,
          },
        };
      }
      if (route === "GET /repos/*/*/branches/*") {
        const branch = parts.slice(4).join("/");
        const sha = find(repo).branches.get(branch);
        if (!sha) throw new NotFound("Branch not found");
        return {
          status: 200,
          json: { name: branch, commit: { sha, url: "" }, protected: false },
        };
      }
      return undefined;
    },
  };
}
