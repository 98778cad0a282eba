/**
 * Writes `schema/deploy.config.schema.json` from the zod schema (`npm run schema`), so editors validate
 * `deploy.config.yaml` with the same rules as the bot. `test/config/json-schema.test.ts` fails when the
 * checked-in file is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigSchema } from "../src/config/schema.ts";

export const SCHEMA_FILE = fileURLToPath(new URL("../schema/deploy.config.schema.json", import.meta.url));

/** The JSON Schema text, deterministic (same input → same bytes), ending with a newline. */
export function renderJsonSchema(): string {
  const generated = z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  const schema = {
    $schema,
    title: "deploy-bot configuration (deploy.config.yaml)",
    description:
      "Pipelines (ordered steps) and the rules that run them for push and pull_request webhooks. Generated from src/config/schema.ts by `npm run schema`; do not edit by hand.",
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, renderJsonSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
