/**
 * The `deploy-bot` command (`bin/deploy-bot.js` imports this file). Each subcommand is imported on demand,
 * so a broken or missing subcommand only breaks itself, and `validate`/`plan` never load the server.
 */
import { USAGE, usageError } from "./usage.ts";

type Command = (argv: string[]) => Promise<number>;

/**
 * Loads `export function <name>(argv): Promise<number>` from a sibling module. The specifier is a variable
 * on purpose: subcommands are written separately and a missing one must only break that subcommand.
 */
const lazy = (file: string, exportName: string) => async (): Promise<Command> => {
  const module = (await import(file)) as Record<string, unknown>;
  const command = module[exportName];
  if (typeof command !== "function") throw new Error(`${file} does not export ${exportName}()`);
  return command as Command;
};

const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: lazy("./validate.ts", "validateCommand"),
  plan: lazy("./plan.ts", "planCommand"),
  run: lazy("./run.ts", "runCommand"),
  worker: lazy("./worker.ts", "workerCommand"),
  notify: lazy("./notify.ts", "notifyCommand"),
};

/** Dispatches to a subcommand; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const load = name === undefined ? undefined : COMMANDS[name];
  if (!load) return usageError(name === undefined ? "missing command" : `unknown command "${name}"`, USAGE);
  let command: Command;
  try {
    command = await load();
  } catch (error) {
    process.stderr.write(`deploy-bot: the ${name} command cannot be loaded: ${(error as Error).message}\n`);
    return 1;
  }
  return command(rest);
}

process.exitCode = await main(process.argv.slice(2));
