/**
 * An Octokit plugin counting GitHub API requests by response status, for `deploybot_github_requests_total`.
 * Each attempt the retry plugin makes passes through the request hook, so retries are counted too.
 */
import type { GitHubRequestMetrics } from "./metrics.ts";

interface HookedOctokit {
  hook: {
    after(name: "request", hook: (response: { status: number }) => void): void;
    error(name: "request", hook: (error: unknown) => never): void;
  };
}

export function countGitHubRequests(metrics: GitHubRequestMetrics) {
  return (octokit: HookedOctokit): void => {
    octokit.hook.after("request", (response) => metrics.githubRequest(response.status));
    octokit.hook.error("request", (error) => {
      const status = (error as { status?: unknown }).status;
      metrics.githubRequest(typeof status === "number" && status >= 100 ? status : "network");
      throw error;
    });
  };
}
