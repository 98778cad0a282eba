import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderJsonSchema, SCHEMA_FILE } from "../../scripts/generate-schema.ts";

describe("schema/deploy.config.schema.json", () => {
  it("is up to date with src/config/schema.ts (run `npm run schema`)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(renderJsonSchema());
  });

  it("describes the config for editors", () => {
    const schema = JSON.parse(renderJsonSchema());
    expect(schema.title).toBe("deploy-bot configuration (deploy.config.yaml)");
    expect(schema.$id).toBeUndefined();
    expect(schema.required).toEqual(["version", "pipelines"]);
    expect(schema.additionalProperties).toBe(false);
  });

  it("deploy.config.yaml points editors at it", () => {
    expect(readFileSync("deploy.config.yaml", "utf8").split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./schema/deploy.config.schema.json",
    );
  });
});
