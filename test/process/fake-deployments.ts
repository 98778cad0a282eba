/**
 * The fake GitHub's Deployments: `POST/GET /repos/{o}/{r}/deployments` and `POST/GET …/deployments/{id}/statuses`,
 * answered as GitHub does (the shapes its OpenAPI description gives), from memory. Like GitHub, creating a
 * Deployment without `required_contexts` checks the commit's statuses and refuses (409) while any is not
 * `success` — the reason the bot must send `required_contexts: []`.
 */

export interface FakeDeploymentStatus {
  readonly id: number;
  readonly state: string;
  readonly description?: string;
  readonly log_url?: string;
  readonly environment_url?: string;
}

export interface FakeDeployment {
  readonly id: number;
  readonly repo: string;
  /** The create request's body, as sent. */
  readonly request: Record<string, unknown>;
  readonly statuses: FakeDeploymentStatus[];
}

export interface FakeDeployments {
  /** Deployments created, in order, with their statuses (optionally of one repository). */
  list(repo?: string): FakeDeployment[];
  /** Answers a Deployments route, or undefined when `route` is not one. */
  answer(
    route: string,
    repo: string,
    parts: readonly string[],
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; json: unknown } | undefined;
}

const CREATOR = { login: "deploy-bot[bot]", id: 9001, type: "Bot" };

export function createFakeDeployments(options: {
  readonly nextId: () => number;
  /** Latest state per context of a commit's statuses. */
  readonly latestStatuses: (repo: string, sha: string) => string[];
  readonly fail: (status: number, message: string) => never;
}): FakeDeployments {
  const deployments: FakeDeployment[] = [];
  const json = (d: FakeDeployment) => {
    const now = new Date().toISOString();
    return {
      url: `https://ghe.example/api/v3/repos/${d.repo}/deployments/${d.id}`,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.request.ref,
      ref: d.request.ref,
      task: d.request.task ?? "deploy",
      payload: d.request.payload ?? {},
      original_environment: d.request.environment ?? "production",
      environment: d.request.environment ?? "production",
      description: d.request.description ?? null,
      creator: CREATOR,
      created_at: now,
      updated_at: now,
      statuses_url: `https://ghe.example/api/v3/repos/${d.repo}/deployments/${d.id}/statuses`,
      repository_url: `https://ghe.example/api/v3/repos/${d.repo}`,
      transient_environment: d.request.transient_environment ?? false,
      production_environment: d.request.production_environment ?? false,
    };
  };
  const find = (repo: string, id: number) => {
    const deployment = deployments.find((d) => d.repo === repo && d.id === id);
    if (!deployment) return options.fail(404, "Not Found");
    return deployment;
  };
  return {
    list: (repo) => deployments.filter((d) => repo === undefined || d.repo === repo),
    answer(route, repo, parts, query, body) {
      switch (route) {
        case "POST /repos/*/*/deployments": {
          if (typeof body.ref !== "string") return options.fail(422, "ref is required");
          if (body.required_contexts === undefined) {
            const unmet = options.latestStatuses(repo, body.ref).filter((state) => state !== "success");
            if (unmet.length > 0) return options.fail(409, "Conflict: Commit status checks failed for ref.");
          }
          const deployment: FakeDeployment = { id: options.nextId(), repo, request: body, statuses: [] };
          deployments.push(deployment);
          return { status: 201, json: json(deployment) };
        }
        case "GET /repos/*/*/deployments": {
          const matches = deployments.filter(
            (d) =>
              d.repo === repo &&
              (!query.get("sha") || d.request.ref === query.get("sha")) &&
              (!query.get("environment") || d.request.environment === query.get("environment")) &&
              (!query.get("task") || (d.request.task ?? "deploy") === query.get("task")),
          );
          return { status: 200, json: matches.reverse().map(json) };
        }
        case "POST /repos/*/*/deployments/*/statuses": {
          const deployment = find(repo, Number(parts[4]));
          const status = { id: options.nextId(), ...body } as FakeDeploymentStatus;
          deployment.statuses.push(status);
          const now = new Date().toISOString();
          return {
            status: 201,
            json: {
              url: `${json(deployment).url}/statuses/${status.id}`,
              id: status.id,
              node_id: `DES_${status.id}`,
              state: status.state,
              creator: CREATOR,
              description: status.description ?? "",
              environment: deployment.request.environment ?? "production",
              target_url: status.log_url ?? "",
              log_url: status.log_url ?? "",
              environment_url: status.environment_url ?? "",
              created_at: now,
              updated_at: now,
              deployment_url: json(deployment).url,
              repository_url: json(deployment).repository_url,
            },
          };
        }
        case "GET /repos/*/*/deployments/*/statuses":
          return { status: 200, json: find(repo, Number(parts[4])).statuses };
        default:
          return undefined;
      }
    },
  };
}
