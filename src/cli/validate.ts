/** `deploy-bot validate [file]`: exit 0 with a one-line summary, or 1 with `file:line:col: message` lines. */
import { formatConfigError, loadConfig } from "../config/load-config.ts";
import { defaultConfigPath, parseCommandArgs } from "./args.ts";
import { usageError } from "./usage.ts";

export const VALIDATE_USAGE =
  "Usage: deploy-bot validate [file]   (default: $DEPLOY_CONFIG or ./deploy.config.yaml)";

/** Validates a config file and reports every problem; returns the exit code. */
export async function validateCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs(argv, { help: { type: "boolean", short: "h" } }, 1);
  if (!args.ok) return usageError(args.error, VALIDATE_USAGE);
  if (args.values.help) {
    process.stdout.write(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  const file = args.positionals[0] ?? defaultConfigPath();
  const result = await loadConfig(file);
  if (!result.ok) {
    process.stderr.write(result.errors.map((e) => `${formatConfigError(e)}\n`).join(""));
    return 1;
  }
  const pipelines = Object.keys(result.config.pipelines).length;
  const rules = result.config.rules.length;
  process.stdout.write(`${file}: valid (${plural(pipelines, "pipeline")}, ${plural(rules, "rule")})\n`);
  return 0;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
