/** The slice of an Octokit client the reporter uses; `ProbotOctokit` and `@octokit/rest`'s `Octokit` fit. */
import type { Octokit } from "@octokit/rest";

export type OctokitLike = Pick<Octokit, "rest" | "paginate">;
