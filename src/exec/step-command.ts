/** How a step's `run` becomes a process: a string through a shell, an array as argv with no shell. */
import { accessSync, constants } from "node:fs";
import path from "node:path";

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

/** The first executable `name` on a PATH-style list, or undefined. */
export function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/**
 * A string runs as `bash -eo pipefail -c <run>` (as GitHub Actions does), or `sh -e -c <run>` where there
 * is no bash. The text is the config author's; event values reach it only as environment variables.
 */
export function stepCommand(run: string | readonly string[], bash: string | undefined): Command {
  if (typeof run !== "string") {
    const [file = "", ...args] = run;
    return { file, args };
  }
  return bash
    ? { file: bash, args: ["-eo", "pipefail", "-c", run] }
    : { file: "sh", args: ["-e", "-c", run] };
}
