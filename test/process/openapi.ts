/**
 * GitHub's own OpenAPI description of the REST API (`@octokit/openapi`, GitHub Enterprise Server flavour) as a
 * checker for the fake GitHub: is `METHOD /path` an operation GitHub Enterprise Server has, and does the JSON
 * body validate against the operation's request body schema? The description is loaded once per process and
 * each operation's body schema is compiled (ajv) the first time it is asked for.
 */
import { createRequire } from "node:module";
import type { AnySchema, ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "ajv";

/** The newest GHES description the installed `@octokit/openapi` ships (non-dereferenced: `$ref`s kept). */
export const GHES_DESCRIPTION = "@octokit/openapi/generated/ghes-3.19.json";
/** Where GHES serves the REST API; the description's paths are relative to it. */
export const API_BASE_PATH = "/api/v3";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

interface Operation {
  readonly operationId?: string;
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Record<string, { readonly schema?: unknown }>;
  };
}

interface Description {
  readonly paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
}

interface Template {
  readonly template: string;
  readonly pattern: RegExp;
  /** Literal segments count more than `{param}` ones: `/app/installations/{id}` beats `/app/{x}/{id}`. */
  readonly literals: number;
}

export type Verdict =
  | { readonly ok: true; readonly operationId: string; readonly template: string }
  | { readonly ok: false; readonly reason: string };

export interface OpenApiChecker {
  /** Checks one request: `path` may carry the `/api/v3` base path and a query string. */
  check(method: string, path: string, body: unknown): Verdict;
  /** Checks an answer the fake gives against the operation's response schema for `status` (JSON only). */
  checkResponse(method: string, path: string, status: number, body: unknown): Verdict;
}

const require = createRequire(import.meta.url);
let shared: OpenApiChecker | undefined;

/** The checker for {@link GHES_DESCRIPTION}, built once per process. */
export function ghesChecker(): OpenApiChecker {
  shared ??= createChecker(require(GHES_DESCRIPTION) as Description);
  return shared;
}

/** A checker for one OpenAPI 3.0 description (exported for the checker's own tests). */
export function createChecker(description: Description): OpenApiChecker {
  // OpenAPI 3.0 schemas carry `nullable`, `example`, `x-github` …: not strict JSON Schema.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  const addFormats = require("ajv-formats") as (ajv: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addSchema(description as unknown as AnySchema, "openapi");

  const templates: Template[] = Object.keys(description.paths)
    .map((template) => {
      const segments = template.split("/").slice(1);
      const source = segments
        .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : escapeRegExp(segment)))
        .join("/");
      return {
        template,
        pattern: new RegExp(`^/${source}$`),
        literals: segments.filter((segment) => !segment.startsWith("{")).length,
      };
    })
    .sort((a, b) => b.literals - a.literals);
  const validators = new Map<string, ValidateFunction>();

  const bodyValidator = (template: string, method: string, mediaType: string): ValidateFunction => {
    const key = `${method} ${template} ${mediaType}`;
    let validate = validators.get(key);
    if (!validate) {
      const pointer = ["paths", template, method, "requestBody", "content", mediaType, "schema"]
        .map((part) => encodeURIComponent(part.replaceAll("~", "~0").replaceAll("/", "~1")))
        .join("/");
      validate = ajv.compile({ $ref: `openapi#/${pointer}` });
      validators.set(key, validate);
    }
    return validate;
  };

  const responseValidators = new Map<string, ValidateFunction>();
  const responseValidator = (template: string, method: string, status: string): ValidateFunction => {
    const key = `${method} ${template} ${status}`;
    let validate = responseValidators.get(key);
    if (!validate) {
      const pointer = [
        "paths",
        template,
        method,
        "responses",
        status,
        "content",
        "application/json",
        "schema",
      ]
        .map((part) => encodeURIComponent(part.replaceAll("~", "~0").replaceAll("/", "~1")))
        .join("/");
      validate = ajv.compile({ $ref: `openapi#/${pointer}` });
      responseValidators.set(key, validate);
    }
    return validate;
  };

  return {
    checkResponse(method, rawPath, status, body) {
      const lower = method.toLowerCase() as (typeof METHODS)[number];
      const pathname = (rawPath.split("?")[0] ?? "").replace(/^\/api\/v3(?=\/)/, "");
      const found = templates.find(
        (t) => t.pattern.test(pathname) && description.paths[t.template]?.[lower] !== undefined,
      );
      if (!found) return { ok: false, reason: `no operation ${method} ${pathname}` };
      const operation = description.paths[found.template]?.[lower] as Operation & {
        responses?: Record<string, { content?: Record<string, unknown> }>;
      };
      const operationId = operation.operationId ?? `${lower} ${found.template}`;
      const response = operation.responses?.[String(status)];
      if (!response) return { ok: false, reason: `${operationId} has no ${status} answer` };
      if (!response.content?.["application/json"]) return { ok: true, operationId, template: found.template };
      const validate = responseValidator(found.template, lower, String(status));
      if (!validate(body))
        return {
          ok: false,
          reason: `${operationId} ${status}: answer does not validate: ${formatErrors(validate.errors)}`,
        };
      return { ok: true, operationId, template: found.template };
    },
    check(method, rawPath, body) {
      const lower = method.toLowerCase() as (typeof METHODS)[number];
      let pathname = rawPath.split("?")[0] ?? "";
      if (pathname === API_BASE_PATH || pathname.startsWith(`${API_BASE_PATH}/`))
        pathname = pathname.slice(API_BASE_PATH.length) || "/";
      const matching = templates.filter((t) => t.pattern.test(pathname));
      if (matching.length === 0)
        return { ok: false, reason: `no path of the description matches ${pathname}` };
      const found = matching.find((t) => description.paths[t.template]?.[lower] !== undefined);
      if (!found)
        return {
          ok: false,
          reason: `${method.toUpperCase()} is not an operation of ${matching.map((t) => t.template).join(", ")}`,
        };
      const operation = description.paths[found.template]?.[lower] as Operation;
      const operationId = operation.operationId ?? `${lower} ${found.template}`;
      const content = operation.requestBody?.content ?? {};
      const mediaType = Object.keys(content).find((type) => type.includes("json"));
      if (body === undefined) {
        if (operation.requestBody?.required)
          return { ok: false, reason: `${operationId}: a request body is required` };
        return { ok: true, operationId, template: found.template };
      }
      if (!mediaType || content[mediaType]?.schema === undefined)
        return { ok: false, reason: `${operationId} takes no JSON request body` };
      const validate = bodyValidator(found.template, lower, mediaType);
      if (!validate(body))
        return {
          ok: false,
          reason: `${operationId}: body does not validate: ${formatErrors(validate.errors)}`,
        };
      return { ok: true, operationId, template: found.template };
    },
  };
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || "(body)"} ${e.message ?? e.keyword}`).join("; ");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
