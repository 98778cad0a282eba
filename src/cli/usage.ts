/** The CLI's help text and the usage-error path (exit code 2). */

export const USAGE = `deploy-bot: turns GitHub push and pull_request webhooks into pipeline runs.

Usage: deploy-bot <command> [options]

Commands:
  validate [file]              Check a config file and report every problem as file:line:col: message.
  plan --event <name> --payload <file.json> [--config file] [--json]
       [--files a,b | --files-from file] [--delivery id]
                               Show which rules and pipelines a webhook would run, and why the other
                               rules do not. Runs nothing. Needs no network, unless a rule filters a
                               pull request on paths and no --files are given: then, with GITHUB_TOKEN
                               set, it lists the pull request's files through the GitHub API
                               (GHE_HOST/GHE_PROTOCOL for GitHub Enterprise Server).
  run <pipeline> [--dir DIR] [--config file]
                               Run one pipeline against a local checkout, without GitHub.
  worker                       Run the queue worker.
  notify test <name> [--config file]
                               Send a sample notification through the channel the named notification
                               is configured with (its variables read from this environment) and
                               print the receiver's answer; exit 1 if it was not accepted.

The config file defaults to $DEPLOY_CONFIG, else ./deploy.config.yaml.

Exit codes:
  0  success: the config is valid / a plan was printed (also when nothing would run) / the pipeline passed
  1  failure: an invalid config, an unreadable payload, a plan that needs changed files it cannot get,
     or a pipeline that did not pass, or a sample notification that was not accepted
  2  usage error: unknown command or option, missing argument
`;

/** Prints the error and a usage line to stderr; returns exit code 2. */
export function usageError(message: string, usage: string): number {
  process.stderr.write(`deploy-bot: ${message}\n${usage}\n`);
  return 2;
}
