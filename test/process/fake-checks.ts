/**
 * The fake GitHub's check runs: `POST /repos/{o}/{r}/check-runs`, `PATCH …/check-runs/{id}` and
 * `GET …/commits/{ref}/check-runs`, answered from memory in the shapes GitHub's OpenAPI description gives, and
 * refusing (422) what GitHub refuses: a `completed` status without a conclusion (or a conclusion with another
 * status), more than 3 actions, an action's label over 20 characters, identifier over 20 or description over 40,
 * an output summary or text over 65,535 characters. Every write is kept, so a test can see the whole history.
 */

export interface FakeCheckRun {
  readonly id: number;
  readonly repo: string;
  readonly head_sha: string;
  readonly app_id: number;
  /** The check run as it is now (the fields GitHub keeps). */
  readonly current: Record<string, unknown>;
  /** Every create and update body, in order. */
  readonly writes: Record<string, unknown>[];
}

export interface FakeChecks {
  list(filter?: { repo?: string; sha?: string }): FakeCheckRun[];
  answer(
    route: string,
    repo: string,
    parts: readonly string[],
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; json: unknown } | undefined;
}

const FIELDS = [
  "name",
  "details_url",
  "external_id",
  "status",
  "conclusion",
  "started_at",
  "completed_at",
  "output",
  "actions",
] as const;

export function createFakeChecks(options: {
  readonly appId: number;
  readonly nextId: () => number;
  readonly fail: (status: number, message: string) => never;
}): FakeChecks {
  const runs: FakeCheckRun[] = [];
  const refuse = (message: string) => options.fail(422, `Validation Failed: ${message}`);

  const validate = (merged: Record<string, unknown>, body: Record<string, unknown>) => {
    if (typeof merged.name !== "string" || merged.name === "") refuse("name is required");
    const status = merged.status ?? "queued";
    if (body.conclusion !== undefined && body.status !== undefined && body.status !== "completed")
      refuse("conclusion requires status completed");
    if (status === "completed" && typeof merged.conclusion !== "string")
      refuse("a completed check run needs a conclusion");
    const actions = (body.actions ?? []) as { label?: string; identifier?: string; description?: string }[];
    if (actions.length > 3) refuse("at most 3 actions");
    for (const a of actions) {
      if (!a.label || a.label.length > 20) refuse("action label must be 1-20 characters");
      if (!a.identifier || a.identifier.length > 20) refuse("action identifier must be 1-20 characters");
      if (!a.description || a.description.length > 40) refuse("action description must be 1-40 characters");
    }
    const output = body.output as { title?: string; summary?: string; text?: string } | undefined;
    if (output) {
      if (!output.title || !output.summary) refuse("output needs title and summary");
      if ((output.summary?.length ?? 0) > 65_535) refuse("output.summary over 65535 characters");
      if ((output.text?.length ?? 0) > 65_535) refuse("output.text over 65535 characters");
    }
  };

  const json = (run: FakeCheckRun) => {
    const c = run.current;
    const output = (c.output ?? {}) as Record<string, unknown>;
    return {
      id: run.id,
      head_sha: run.head_sha,
      node_id: `CR_${run.id}`,
      external_id: c.external_id ?? "",
      url: `https://ghe.example/api/v3/repos/${run.repo}/check-runs/${run.id}`,
      html_url: `https://ghe.example/${run.repo}/runs/${run.id}`,
      details_url: c.details_url ?? null,
      status: c.status ?? "queued",
      conclusion: c.conclusion ?? null,
      started_at: c.started_at ?? null,
      completed_at: c.completed_at ?? null,
      output: {
        title: output.title ?? null,
        summary: output.summary ?? null,
        text: output.text ?? null,
        annotations_count: 0,
        annotations_url: `https://ghe.example/api/v3/repos/${run.repo}/check-runs/${run.id}/annotations`,
      },
      name: c.name,
      check_suite: { id: 1 },
      app: { id: run.app_id, slug: "deploy-bot", name: "deploy-bot" },
      pull_requests: [],
    };
  };

  const pick = (body: Record<string, unknown>) =>
    Object.fromEntries(FIELDS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));

  return {
    list: (filter = {}) =>
      runs.filter(
        (r) =>
          (filter.repo === undefined || r.repo === filter.repo) &&
          (filter.sha === undefined || r.head_sha === filter.sha),
      ),
    answer(route, repo, parts, query, body) {
      switch (route) {
        case "POST /repos/*/*/check-runs": {
          if (typeof body.head_sha !== "string" || !/^[0-9a-f]{40}$/.test(body.head_sha))
            return refuse("head_sha must be a commit SHA");
          const current = pick(body);
          validate(current, body);
          if (current.status === undefined)
            current.status = body.conclusion === undefined ? "queued" : "completed";
          const run: FakeCheckRun = {
            id: options.nextId(),
            repo,
            head_sha: body.head_sha,
            app_id: options.appId,
            current,
            writes: [body],
          };
          runs.push(run);
          return { status: 201, json: json(run) };
        }
        case "PATCH /repos/*/*/check-runs/*": {
          const run = runs.find((r) => r.repo === repo && r.id === Number(parts[4]));
          if (!run) return options.fail(404, "Not Found");
          if (body.head_sha !== undefined) return refuse("head_sha cannot be changed");
          const merged = { ...run.current, ...pick(body) };
          if (body.conclusion !== undefined && body.status === undefined) merged.status = "completed";
          if (merged.status !== "completed") delete merged.conclusion;
          validate(merged, body);
          Object.assign(run.current, merged);
          if (merged.conclusion === undefined) delete run.current.conclusion;
          run.writes.push(body);
          return { status: 200, json: json(run) };
        }
        case "GET /repos/*/*/commits/*/check-runs": {
          const name = query.get("check_name");
          const mine = runs.filter((r) => r.repo === repo && r.head_sha === parts[4]);
          const named = mine.filter((r) => name === null || r.current.name === name);
          // filter=latest (the default): only the newest check run of each name.
          const latest =
            query.get("filter") === "all"
              ? named
              : named.filter((r) => !named.some((o) => o.current.name === r.current.name && o.id > r.id));
          const perPage = Number(query.get("per_page") ?? 30);
          const page = Number(query.get("page") ?? 1);
          const shown = [...latest].reverse().slice((page - 1) * perPage, page * perPage);
          return { status: 200, json: { total_count: latest.length, check_runs: shown.map(json) } };
        }
        default:
          return undefined;
      }
    },
  };
}
