/** Tiny wrapper over `node:util` parseArgs that turns its exceptions into a usage message (exit 2). */
import { type ParseArgsConfig, parseArgs } from "node:util";

export type ParsedArgs<T extends NonNullable<ParseArgsConfig["options"]>> =
  | {
      readonly ok: true;
      readonly values: { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string };
      readonly positionals: string[];
    }
  | { readonly ok: false; readonly error: string };

/** Parses `argv` strictly against `options`; unknown options and missing values are usage errors. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
  maxPositionals: number,
): ParsedArgs<T> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > maxPositionals) {
      return { ok: false, error: `unexpected argument "${positionals[maxPositionals]}"` };
    }
    return {
      ok: true,
      values: values as { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string },
      positionals,
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** `$DEPLOY_CONFIG`, else `./deploy.config.yaml` (as the server does). */
export const defaultConfigPath = (): string => process.env.DEPLOY_CONFIG || "deploy.config.yaml";
