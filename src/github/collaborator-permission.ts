/**
 * A user's permission on a repository as GitHub says now (`GET /repos/{o}/{r}/collaborators/{u}/permission`):
 * what every command and button is authorised by — never a payload's `author_association`.
 */
import type { Octokit } from "@octokit/rest";
import { describeGitHubFailure } from "../report/github-errors.ts";
import type { Permission } from "../runs/command-decisions.ts";

export async function collaboratorPermission(
  octokit: Pick<Octokit, "rest">,
  repo: { readonly owner: string; readonly name: string },
  login: string,
): Promise<Permission> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: repo.owner,
      repo: repo.name,
      username: login,
    });
    return { permission: data.permission, roleName: data.role_name };
  } catch (error) {
    // Not a collaborator at all.
    if (describeGitHubFailure(error).status === 404) return { permission: "no", roleName: undefined };
    throw error;
  }
}
