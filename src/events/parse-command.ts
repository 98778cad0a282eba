/**
 * `/deploy-bot <command> [args]` in the first line of a comment → a typed command, a refusal that says what is
 * valid, or "not a command". Pure. Only the first line counts; the rest of the comment is free text. Arguments
 * are split on ASCII spaces and tabs only and checked against strict character sets, so unicode lookalikes,
 * shell metacharacters and option-like refs (`--upload-pack=…`) are refused, never passed on.
 */
import { refNameProblem } from "./normalise-ref-name.ts";

export const COMMAND_PREFIX = "/deploy-bot";

export type Command =
  | { readonly name: "approve" }
  | { readonly name: "deploy"; readonly environment: string; readonly ref: string | undefined }
  | { readonly name: "retry"; readonly pipeline: string | undefined }
  | { readonly name: "rollback"; readonly environment: string }
  | { readonly name: "help" };

export type ParsedComment =
  /** `text`: the command line as written (one line, at most `COMMAND_TEXT_MAX` characters). */
  | { readonly kind: "command"; readonly command: Command; readonly text: string }
  | { readonly kind: "refused"; readonly reason: string; readonly text: string }
  | { readonly kind: "none"; readonly reason: string };

/** The usage lines, shown by `help` and in every refusal. */
export const COMMAND_USAGE: readonly string[] = [
  "/deploy-bot deploy <environment> [<ref>]",
  "/deploy-bot retry [<pipeline>]",
  "/deploy-bot rollback <environment>",
  "/deploy-bot approve",
  "/deploy-bot help",
];

/** A command line longer than this is refused (and only this much of it is ever echoed back). */
export const COMMAND_TEXT_MAX = 200;
const NAME_MAX = 100;
const REF_MAX = 200;
/** Config names (`environment`, pipelines): see `Name` in `config/schema.ts`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Branch, tag or SHA: a conservative subset of what git allows, never starting with `-`. */
const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

export function parseCommand(body: string): ParsedComment {
  // Only the first line is read, and only so much of a huge comment is ever looked at.
  const head = body.slice(0, 4 * COMMAND_TEXT_MAX);
  const firstLine = (head.split(/\r\n|\r|\n/, 1)[0] ?? "").replace(/^[ \t]+|[ \t]+$/g, "");
  if (firstLine !== COMMAND_PREFIX && !/^\/deploy-bot[ \t]/.test(firstLine))
    return { kind: "none", reason: "the first line is not a /deploy-bot command" };
  const text = firstLine.slice(0, COMMAND_TEXT_MAX);
  const refuse = (why: string) => ({ kind: "refused", reason: why, text }) as const;
  if (firstLine.length > COMMAND_TEXT_MAX || (firstLine === head && body.length > head.length))
    return refuse(`the command line is longer than ${COMMAND_TEXT_MAX} characters`);
  const [, word, ...args] = firstLine.split(/[ \t]+/);
  const ok = (command: Command) => ({ kind: "command", command, text }) as const;
  switch (word) {
    case undefined:
      return refuse("no command given");
    case "help":
    case "approve":
      return args.length === 0 ? ok({ name: word }) : refuse(`${word} takes no arguments`);
    case "deploy": {
      const [environment, ref, ...rest] = args;
      if (environment === undefined) return refuse("deploy needs an environment");
      if (rest.length > 0) return refuse("deploy takes an environment and at most one ref");
      const problem =
        nameProblem("environment", environment) ?? (ref === undefined ? undefined : refProblem(ref));
      return problem ? refuse(problem) : ok({ name: "deploy", environment, ref });
    }
    case "retry": {
      const [pipeline, ...rest] = args;
      if (rest.length > 0) return refuse("retry takes at most one pipeline");
      const problem = pipeline === undefined ? undefined : nameProblem("pipeline", pipeline);
      return problem ? refuse(problem) : ok({ name: "retry", pipeline });
    }
    case "rollback": {
      const [environment, ...rest] = args;
      if (environment === undefined) return refuse("rollback needs an environment");
      if (rest.length > 0) return refuse("rollback takes exactly one environment");
      const problem = nameProblem("environment", environment);
      return problem ? refuse(problem) : ok({ name: "rollback", environment });
    }
    default:
      return refuse(`unknown command ${JSON.stringify(word.slice(0, 40))}`);
  }
}

function nameProblem(what: string, name: string): string | undefined {
  if (name.length > NAME_MAX) return `the ${what} name is longer than ${NAME_MAX} characters`;
  if (!NAME.test(name))
    return `${JSON.stringify(name)} is not a valid ${what} name (letters, digits, '.', '_', '-')`;
  return undefined;
}

function refProblem(ref: string): string | undefined {
  if (ref.length > REF_MAX) return `the ref is longer than ${REF_MAX} characters`;
  const problem = REF.test(ref) ? refNameProblem(ref) : "contains a character that is not allowed";
  return problem ? `ref ${JSON.stringify(ref)} ${problem} (give a branch, tag or commit SHA)` : undefined;
}
