/**
 * The human-facing pages wired together: GitHub login (`/auth/*`, when `GITHUB_CLIENT_ID` is set), the
 * dashboard (`GET /`) and the run pages (`/runs/…`), all behind the same page gate.
 */
import { createGitHubUserApi } from "../auth/github-user.ts";
import { createLogin, type Login } from "../auth/login-routes.ts";
import { createPageGates } from "../auth/page-gate.ts";
import { cachedRepoAccess } from "../auth/repo-access.ts";
import { createSealer } from "../auth/seal.ts";
import { createDashboardRoutes } from "../dashboard/dashboard-routes.ts";
import { firstOf } from "../observe/observe-routes.ts";
import type { ExtraRoutes } from "../server/front-door.ts";
import { authRevocations } from "../store/auth-revocations.ts";
import type { Database } from "../store/database.ts";
import { logsSince } from "../store/log-since.ts";
import type { Logger } from "../store/logger.ts";
import type { RunStore } from "../store/run-store.ts";
import type { ServerEnv } from "./read-server-env.ts";
import { createRunPageRoutes } from "./run-page-routes.ts";

export function createPageRoutes(options: {
  readonly env: ServerEnv;
  readonly db: Database;
  readonly store: RunStore;
  readonly logger: Logger;
  /** True once shutdown has begun (live log streams end). */
  readonly isStopping: () => boolean;
}): ExtraRoutes {
  const { env, db, store, logger } = options;
  let login: Login | undefined;
  if (env.login && env.publicUrl) {
    const github = createGitHubUserApi({
      clientId: env.login.clientId,
      clientSecret: env.login.clientSecret,
      apiUrl: env.githubApiUrl ?? "https://api.github.com",
    });
    login = createLogin({
      github,
      publicUrl: env.publicUrl,
      sealer: createSealer(env.login.sessionSecret),
      revocations: authRevocations(db),
      access: cachedRepoAccess({ list: (token) => github.readableRepos(token) }),
      logger,
    });
  }
  const gates = createPageGates({
    login,
    dashboardToken: env.dashboardToken,
    secureCookie: env.publicUrl?.startsWith("https:") ?? false,
  });
  return firstOf(
    ...(login ? [login.routes] : []),
    createDashboardRoutes({ db, gate: gates.dashboard }),
    createRunPageRoutes({
      getRun: async (id) => (await store.getRun(id)) ?? undefined,
      readLog: (id, step) => store.readLog(id, step),
      logsSince: (id, after, limit) => logsSince(db, id, after, limit),
      gate: gates.runs,
      isStopping: options.isStopping,
    }),
  );
}
