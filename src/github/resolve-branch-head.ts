/**
 * What a scheduled tick needs from GitHub, resolved at the tick: the App's installation on the repository
 * (App JWT), the repository itself (clone URL, default branch) and the branch's head commit. The answers
 * are untrusted JSON like any payload, read with the same checks (`normalise-fields.ts`).
 */
import type { Octokit } from "@octokit/rest";
import { isCommitSha } from "../events/commit-sha.ts";
import { type Ignored, ignored, type RepoRef } from "../events/deploy-event.ts";
import { isObject, MalformedPayload, repoRef } from "../events/normalise-fields.ts";
import { refNameProblem } from "../events/normalise-ref-name.ts";

export type RequestClient = Pick<Octokit, "request">;

export interface BranchHeadClients {
  /** Authenticated as the App (JWT). */
  readonly app: () => Promise<RequestClient>;
  /** Authenticated as the installation. */
  readonly installation: (installationId: number) => Promise<RequestClient>;
}

export interface BranchHead {
  readonly installationId: number;
  readonly repo: RepoRef;
  readonly branch: string;
  readonly sha: string;
}

const status = (error: unknown): number | undefined =>
  typeof (error as { status?: unknown })?.status === "number"
    ? (error as { status: number }).status
    : undefined;

/**
 * The head commit of `branch` (default: the repository's default branch) of `fullName`. A repository the
 * App is not installed on, or a branch that does not exist, is `Ignored` with the reason; anything else
 * (network, 5xx) throws so the tick is tried again.
 */
export async function resolveBranchHead(
  clients: BranchHeadClients,
  fullName: string,
  branch: string | undefined,
): Promise<BranchHead | Ignored> {
  const [owner = "", repo = ""] = fullName.split("/");
  let installationId: number;
  try {
    const app = await clients.app();
    const { data } = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
    if (!Number.isSafeInteger(data.id)) return ignored(`GitHub answered no installation id for ${fullName}`);
    installationId = data.id;
  } catch (error) {
    if (status(error) === 404) return ignored(`the App is not installed on ${fullName}`);
    throw error;
  }
  const octokit = await clients.installation(installationId);
  let repoInfo: RepoRef;
  let defaultBranch: unknown;
  try {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo });
    repoInfo = repoRef({ repository: data });
    defaultBranch = isObject(data) ? data.default_branch : undefined;
  } catch (error) {
    if (status(error) === 404) return ignored(`repository ${fullName} is not visible to the installation`);
    if (error instanceof MalformedPayload)
      return ignored(`GitHub's answer for ${fullName}: ${error.message}`);
    throw error;
  }
  const name = branch ?? (typeof defaultBranch === "string" ? defaultBranch : "");
  const problem = refNameProblem(name);
  if (problem) return ignored(`branch name ${JSON.stringify(name)} ${problem}`);
  try {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/branches/{branch}", {
      owner,
      repo,
      branch: name,
    });
    const sha = data.commit?.sha;
    if (typeof sha !== "string" || !isCommitSha(sha))
      return ignored(`GitHub answered no commit for branch ${name} of ${fullName}`);
    return { installationId, repo: repoInfo, branch: name, sha };
  } catch (error) {
    if (status(error) === 404) return ignored(`branch ${name} does not exist in ${fullName}`);
    throw error;
  }
}
