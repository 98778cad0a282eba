/**
 * GitHub as the logged-in user sees it: the App's OAuth web flow (`@octokit/oauth-methods`, pointed at the
 * Enterprise host when `GHE_HOST` is set) and the repositories the user can read, asked with the user's own
 * token: the App's installations the user can access (`GET /user/installations`) and, in each, the
 * repositories the user can access (`GET /user/installations/{id}/repositories`). Nothing is taken from a
 * payload or a cookie the user could write. Logging out revokes the token at GitHub, so a copy of it is worthless.
 */
import { deleteToken, exchangeWebFlowCode, getWebFlowAuthorizationUrl } from "@octokit/oauth-methods";
import { Octokit } from "@octokit/rest";

export interface GitHubUserApi {
  /** Where to send the browser: the web host's `/login/oauth/authorize` with this `state`. */
  authorizeUrl(state: string, redirectUrl: string): string;
  /** Exchanges the callback's `code` for the user's token; throws when GitHub refuses it. */
  exchangeCode(code: string, redirectUrl: string): Promise<string>;
  /** The user's login. */
  login(token: string): Promise<string>;
  /** `owner/name` of every repository of the App's installations the user can read. */
  readableRepos(token: string): Promise<readonly string[]>;
  /** Revokes the user's token at GitHub (`DELETE /applications/{client_id}/token`); throws when GitHub refuses. */
  revokeToken(token: string): Promise<void>;
}

/** GitHub answered 401 to the user's token: it expired or was revoked, the user must log in again. */
export class TokenRejected extends Error {}

export interface GitHubUserApiOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The REST API base URL: `https://api.github.com` or `<protocol>://<host>/api/v3`. */
  readonly apiUrl: string;
  readonly timeoutMs?: number;
  /** Stops listing after this many installations / repositories (each page is one request). */
  readonly maxInstallations?: number;
  readonly maxRepositories?: number;
}

export function createGitHubUserApi(options: GitHubUserApiOptions): GitHubUserApi {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxInstallations = options.maxInstallations ?? 100;
  const maxRepositories = options.maxRepositories ?? 3000;
  const plain = new Octokit({ baseUrl: options.apiUrl });
  const asUser = (token: string) =>
    new Octokit({
      auth: token,
      baseUrl: options.apiUrl,
      request: { signal: AbortSignal.timeout(timeoutMs) },
    });
  const rejected = (error: unknown): never => {
    if ((error as { status?: number }).status === 401) throw new TokenRejected("GitHub rejected the token");
    throw error;
  };
  return {
    authorizeUrl(state, redirectUrl) {
      return getWebFlowAuthorizationUrl({
        clientType: "github-app",
        clientId: options.clientId,
        redirectUrl,
        state,
        request: plain.request,
      }).url;
    },
    async exchangeCode(code, redirectUrl) {
      const { authentication } = await exchangeWebFlowCode({
        clientType: "github-app",
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        code,
        redirectUrl,
        request: plain.request.defaults({ request: { signal: AbortSignal.timeout(timeoutMs) } }),
      });
      return authentication.token;
    },
    async revokeToken(token) {
      try {
        await deleteToken({
          clientType: "github-app",
          clientId: options.clientId,
          clientSecret: options.clientSecret,
          token,
          request: plain.request.defaults({ request: { signal: AbortSignal.timeout(timeoutMs) } }),
        });
      } catch (error) {
        // Already revoked or expired: GitHub says 404 (or 422); either way the token no longer works.
        const status = (error as { status?: number }).status;
        if (status !== 404 && status !== 422) throw error;
      }
    },
    async login(token) {
      try {
        const { data } = await asUser(token).request("GET /user");
        return data.login;
      } catch (error) {
        return rejected(error);
      }
    },
    async readableRepos(token) {
      const octokit = asUser(token);
      const names: string[] = [];
      try {
        const installations: { id: number }[] = [];
        for await (const page of octokit.paginate.iterator("GET /user/installations", { per_page: 100 })) {
          installations.push(...page.data);
          if (installations.length >= maxInstallations) break;
        }
        for (const installation of installations.slice(0, maxInstallations)) {
          for await (const page of octokit.paginate.iterator(
            "GET /user/installations/{installation_id}/repositories",
            { installation_id: installation.id, per_page: 100 },
          )) {
            names.push(...page.data.map((repo) => repo.full_name));
            if (names.length >= maxRepositories) return names;
          }
        }
      } catch (error) {
        return rejected(error);
      }
      return names;
    },
  };
}
