/**
 * The part of the fake GitHub that `/deploy-bot` commands talk to: collaborator permissions per user, pull
 * requests (`GET /repos/{o}/{r}/pulls/{n}`), refs resolved to commits (`GET /repos/{o}/{r}/commits/{ref}`) and
 * reactions on comments. `answerCommands` is called from the `answer` switch of `fake-github.ts`, so every call
 * is checked against GitHub's OpenAPI description like the others.
 */

export interface FakePullRequest {
  readonly sha: string;
  readonly ref: string;
  /** `owner/name` of the head repository; another one than the base makes it a fork. */
  readonly headRepo: string;
}

export interface Reaction {
  readonly repo: string;
  readonly commentId: number;
  readonly content: string;
}

export interface CommandsModel {
  /** login → `admin`, `write`, `read` or `none`; a login not set has `write`. */
  readonly permissions: Map<string, string>;
  /** `owner/name#n` → the pull request. */
  readonly pulls: Map<string, FakePullRequest>;
  /** `owner/name@ref` → commit SHA. */
  readonly refs: Map<string, string>;
  readonly reactions: Reaction[];
}

export function commandsModel(): CommandsModel {
  return { permissions: new Map(), pulls: new Map(), refs: new Map(), reactions: [] };
}

export class NotFound extends Error {}

/** The answer to a command-related call, or undefined when the route is not one of them. */
export function answerCommands(
  model: CommandsModel,
  route: string,
  parts: readonly string[],
  repo: string,
  body: Record<string, unknown>,
  nextId: () => number,
): { status: number; json: unknown } | undefined {
  const now = new Date().toISOString();
  switch (route) {
    case "GET /repos/*/*/collaborators/*/permission": {
      const login = parts[4] as string;
      const permission = model.permissions.get(login) ?? "write";
      return {
        status: 200,
        json: { permission, role_name: permission, user: { login, id: 1, type: "User" } },
      };
    }
    case "POST /repos/*/*/issues/comments/*/reactions": {
      const content = String(body.content);
      model.reactions.push({ repo, commentId: Number(parts[5]), content });
      return {
        status: 201,
        json: {
          id: nextId(),
          content,
          created_at: now,
          user: { login: "deploy-bot[bot]", id: 9001, type: "Bot" },
        },
      };
    }
    case "GET /repos/*/*/pulls/*": {
      const number = Number(parts[4]);
      const pull = model.pulls.get(`${repo}#${number}`);
      if (!pull) throw new NotFound(`no pull request #${number}`);
      const repoJson = (fullName: string) => ({
        id: fullName.toLowerCase() === repo.toLowerCase() ? 1 : 2,
        full_name: fullName,
        name: fullName.split("/")[1],
      });
      return {
        status: 200,
        json: {
          number,
          state: "open",
          title: "A change",
          draft: false,
          head: { sha: pull.sha, ref: pull.ref, repo: repoJson(pull.headRepo) },
          base: { sha: "0".repeat(40), ref: "main", repo: repoJson(repo) },
        },
      };
    }
    case "GET /repos/*/*/commits/*": {
      const ref = parts[4] as string;
      const sha = model.refs.get(`${repo}@${ref}`) ?? (/^[0-9a-f]{40}$/.test(ref) ? ref : undefined);
      if (!sha) throw new NotFound(`no commit ${ref}`);
      return { status: 200, json: { sha, commit: { message: "a commit" } } };
    }
    default:
      return undefined;
  }
}
