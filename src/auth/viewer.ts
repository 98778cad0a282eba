/** Who is looking at the dashboard or a run page, and what they may see. */

export type Viewer =
  /** No GitHub login configured: the operator's own gate (DASHBOARD_TOKEN, unguessable run ids) applies. */
  | { readonly kind: "anyone" }
  | {
      readonly kind: "user";
      readonly login: string;
      /** Lower-cased `owner/name` of the repositories the user can read on GitHub. */
      readonly repos: ReadonlySet<string>;
    };

export const ANYONE: Viewer = { kind: "anyone" };

export function canRead(viewer: Viewer, repo: string | null): boolean {
  if (viewer.kind === "anyone") return true;
  return repo !== null && viewer.repos.has(repo.toLowerCase());
}

/** The repositories a store query is limited to; undefined means all. */
export function visibleRepos(viewer: Viewer): readonly string[] | undefined {
  return viewer.kind === "anyone" ? undefined : [...viewer.repos];
}
