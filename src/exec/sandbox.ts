/**
 * The step sandbox: every step runs in fresh Linux namespaces (util-linux `unshare`), so the code of a
 * pull request cannot read the bot's process environment — `/proc/<pid>/environ` of the bot and its
 * ancestors holds `PRIVATE_KEY`, `WEBHOOK_SECRET` and every declared secret — nor the bot's private files.
 *
 * Layout of one sandboxed step (`unshare --user --map-root-user --pid --fork --mount --mount-proc`):
 *
 *     bot ─ unshare (host PID namespace, leader of the step's process group, waits)
 *             └─ init: /bin/sh, PID 1 of a new PID namespace, root of a new user namespace
 *                  └─ unshare --user --map-user=<bot uid> → /bin/sh (reports "started") → the step
 *
 * - New PID namespace with its own `/proc`: the step sees only its own processes; the bot, npm, the
 *   shell that started them and concurrent steps do not exist for it. When init exits the kernel kills
 *   whatever is left in the namespace, so `setsid sleep 300 &` cannot outlive the step.
 * - New mount namespace: init mounts an empty read-only tmpfs over each hidden directory (the embedded
 *   database) and binds `/dev/null` over each hidden file (the App's key file, `.env`).
 * - Two user namespaces: init is root in the outer one, which it needs for those mounts; the step runs
 *   in a nested one as the bot's own uid, without capabilities over the mounts or the PID namespace.
 *   So it cannot unmount what hides a file (nor `/proc`), and mounts it copies into a namespace of its
 *   own are locked by the kernel. Without the nested namespace a step would be root with every capability
 *   over its mounts and could undo them. (Root outside is root-in-a-user-namespace here, which cannot
 *   touch the outer namespaces either.)
 * - Init is a small shell script, not the step itself, because a namespace's PID 1 ignores signals it has
 *   no handler for: run directly, the step would never see the SIGTERM that precedes SIGKILL.
 *
 * Init reports to the bot on file descriptor 3, one word a line: `started` (the sandbox is set up and the
 * step's command is about to be executed), `exited` (the step's main process ended) and `leftovers` (it
 * is stopping processes the step left running). The step itself never has descriptor 3.
 *
 * Not covered: the network, files the bot's user can read outside the hidden paths (including other
 * repositories' mirrors under the workspaces), and anything a process of the same uid outside the sandbox
 * offers (sockets, a shared `/tmp`). Run the bot as a dedicated user. Set-user-ID programs (`sudo`) do not
 * work inside, and files of users other than the bot's appear owned by `nobody`.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { type Command, findOnPath } from "./step-command.ts";
import { FALLBACK_PATH } from "./step-env.ts";

export type SandboxMode = "auto" | "required" | "off";
export const SANDBOX_MODES: readonly SandboxMode[] = ["auto", "required", "off"];

/**
 * A path the step must not read: a file is covered with `/dev/null`, a directory with an empty read-only
 * tmpfs. Absolute; hidden only if it exists when the step starts.
 */
export interface HiddenPath {
  readonly path: string;
  readonly kind: "file" | "dir";
}

export interface StepSandbox {
  /** The argv that runs `command` inside the sandbox; pass it to execa with a pipe on descriptor 3. */
  wrap(command: Command, options: { readonly killGraceMs: number }): Command;
  readonly hiddenPaths: readonly HiddenPath[];
}

/** The descriptor on which init reports (see the module comment). */
export const SANDBOX_REPORT_FD = 3;
export type SandboxReport = "started" | "exited" | "leftovers";

/** The programs the sandbox runs, as absolute paths (never looked up on the step's PATH). */
export interface SandboxTools {
  readonly unshare: string;
  readonly mount: string;
  readonly sleep: string;
  readonly sh: string;
}

/**
 * PID 1 of the step's namespace. Arguments (all positional, never spliced into this text):
 * `<unshare> <mount> <sleep> <sh> <uid> <gid> <grace in 0.1 s ticks> [-d DIR | -f FILE]... -- <file> <args>...`
 *
 * 1. Traps TERM/INT/HUP first (without a handler PID 1 ignores them), only to remember that the bot is
 *    stopping the step: the step's own processes get the bot's SIGTERM directly (they are in the bot's
 *    process group), so forwarding would signal them twice.
 * 2. Hides the paths that exist; a mount that fails stops here (the bot reports "could not start").
 * 3. Runs the step in the foreground (a background job would start with SIGINT ignored) in a nested user
 *    namespace as the bot's uid, with the real stderr (kept on descriptor 4) while init's own stderr goes
 *    to /dev/null: the shell would otherwise print "Terminated" or "Killed" into the step's log.
 * 4. When the step's main process has exited: every process still alive gets SIGTERM, except, when the
 *    bot is stopping the step, those still in the bot's process group (they had it already; in this
 *    namespace their group id reads 0, because the group leader is outside). Waits up to the grace
 *    period, then exits with the step's status, upon which the kernel kills what is left.
 */
const INIT_SCRIPT = `stopping=
trap 'stopping=1' TERM INT HUP
unshare=$1 mount=$2 sleep=$3 sh=$4 uid=$5 gid=$6 ticks=$7
shift 7
while [ "$#" -gt 1 ] && [ "$1" != -- ]; do
  if [ -e "$2" ]; then
    case $1 in
      -d) "$mount" -t tmpfs -o ro,nosuid,nodev,noexec,mode=0555,size=4k deploy-bot-hidden "$2" ;;
      -f) "$mount" --bind /dev/null "$2" ;;
      *) false ;;
    esac || { printf 'deploy-bot: the step sandbox could not hide %s\\n' "$2" >&2; exit 125; }
  fi
  shift 2
done
[ "$1" = -- ] || exit 125
shift
exec 4>&2 2>/dev/null
(exec 2>&4 4>&- && exec "$unshare" --user --map-user="$uid" --map-group="$gid" -- "$sh" -c 'printf "started\\n" >&3 && exec "$@" 3>&-' deploy-bot-step "$@")
status=$?
exec 4>&-
printf 'exited\\n' >&3
signalled= tick=0
while :; do
  found=
  for dir in /proc/[0-9]*; do
    pid=\${dir#/proc/}
    [ "$pid" = 1 ] && continue
    { read -r stat < "$dir/stat"; } 2>/dev/null || continue
    rest=\${stat##*) }
    state=\${rest%% *}
    rest=\${rest#* }
    rest=\${rest#* }
    pgrp=\${rest%% *}
    case $state in Z|X) continue ;; esac
    found=1
    if [ -z "$signalled" ] && { [ -z "$stopping" ] || [ "$pgrp" != 0 ]; }; then kill -TERM "$pid"; fi
  done
  [ -n "$found" ] || break
  [ -n "$signalled" ] || [ -n "$stopping" ] || printf 'leftovers\\n' >&3
  signalled=1
  [ "$tick" -lt "$ticks" ] || break
  tick=$((tick + 1))
  "$sleep" 0.1
done
exit "$status"
`;

/** The `unshare` options, in order; see the module comment for why each is there. */
export const UNSHARE_FLAGS = [
  "--user",
  "--map-root-user",
  "--pid",
  "--fork",
  "--mount",
  "--mount-proc",
  "--kill-child",
] as const;

/** Builds the sandbox from its parts; {@link probeSandbox} is how the bot gets one that is known to work. */
export function namespaceSandbox(
  tools: SandboxTools,
  hiddenPaths: readonly HiddenPath[],
  ids: { readonly uid: number; readonly gid: number } = currentIds(),
): StepSandbox {
  const hidden = hiddenPaths.flatMap((entry) => [entry.kind === "dir" ? "-d" : "-f", entry.path]);
  return {
    hiddenPaths,
    wrap(command, options) {
      const ticks = Math.max(0, Math.ceil(options.killGraceMs / 100));
      return {
        file: tools.unshare,
        args: [
          ...UNSHARE_FLAGS,
          "--",
          tools.sh,
          "-c",
          INIT_SCRIPT,
          "deploy-bot-init",
          tools.unshare,
          tools.mount,
          tools.sleep,
          tools.sh,
          String(ids.uid),
          String(ids.gid),
          String(ticks),
          ...hidden,
          "--",
          command.file,
          ...command.args,
        ],
      };
    },
  };
}

function currentIds(): { uid: number; gid: number } {
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
}

/** The programs on the bot's own PATH (or the usual system directories), or why one is missing. */
export function findSandboxTools(searchPath = process.env.PATH): SandboxTools | string {
  const where = `${searchPath ?? ""}${path.delimiter}${FALLBACK_PATH}`;
  const unshare = findOnPath("unshare", where);
  const mount = findOnPath("mount", where);
  const sleep = findOnPath("sleep", where);
  const sh = findOnPath("sh", "/bin:/usr/bin");
  if (!unshare) return "util-linux `unshare` was not found";
  if (!mount) return "`mount` was not found";
  if (!sleep) return "`sleep` was not found";
  if (!sh) return "/bin/sh was not found";
  return { unshare, mount, sleep, sh };
}

/**
 * What the server hides from steps: the embedded database (`<DATA_DIR>/db`, which may not exist yet at
 * start-up), the App's private key file and the `.env` the bot loaded. Init hides those that exist when
 * the step starts. Never the workspaces: a step's checkout lives there and borrows objects from the
 * repository's mirror through git alternates.
 */
export function serverHiddenPaths(options: {
  readonly dataDir: string;
  readonly privateKeyPath?: string | undefined;
  readonly envFile?: string | undefined;
}): HiddenPath[] {
  const hidden: HiddenPath[] = [{ path: path.resolve(options.dataDir, "db"), kind: "dir" }];
  for (const file of [options.privateKeyPath, options.envFile])
    if (file) hidden.push({ path: path.resolve(file), kind: "file" });
  return hidden;
}

export type SandboxProbe =
  | { readonly ok: true; readonly sandbox: StepSandbox }
  | { readonly ok: false; readonly reason: string };

const PROBE_TIMEOUT_MS = 10_000;
/** Run inside the probe: the step's parent is PID 1 of its own namespace and every hidden path is empty. */
const PROBE_SCRIPT = `[ "$PPID" = 1 ] || { echo "not in a new PID namespace" >&2; exit 1; }
while [ "$#" -gt 1 ]; do
  [ -e "$2" ] || { shift 2; continue; }
  case $1 in
    dir) [ -z "$(ls -A "$2")" ] ;;
    *) [ ! -s "$2" ] ;;
  esac || { echo "$2 is not hidden" >&2; exit 1; }
  shift 2
done
exit 42`;

const probes = new Map<string, Promise<SandboxProbe>>();

/**
 * Runs one step-shaped command in the sandbox and checks what it sees, once per process and set of
 * hidden paths (the result is cached). Never throws: a failure says why in words.
 */
export function probeSandbox(hiddenPaths: readonly HiddenPath[]): Promise<SandboxProbe> {
  const key = JSON.stringify(hiddenPaths);
  let probe = probes.get(key);
  if (!probe) {
    probe = runProbe(hiddenPaths);
    probes.set(key, probe);
  }
  return probe;
}

async function runProbe(hiddenPaths: readonly HiddenPath[]): Promise<SandboxProbe> {
  if (process.platform !== "linux") return { ok: false, reason: "Linux namespaces need Linux" };
  const tools = findSandboxTools();
  if (typeof tools === "string") return { ok: false, reason: tools };
  const sandbox = namespaceSandbox(tools, hiddenPaths);
  const args = hiddenPaths.flatMap((entry) => [entry.kind, entry.path]);
  const command = sandbox.wrap(
    { file: tools.sh, args: ["-c", PROBE_SCRIPT, "probe", ...args] },
    { killGraceMs: 0 },
  );
  try {
    const result = await execa(command.file, command.args, {
      env: { PATH: FALLBACK_PATH, LANG: "C" },
      extendEnv: false,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      timeout: PROBE_TIMEOUT_MS,
      reject: false,
      all: true,
    });
    const reports = String(result.stdio[SANDBOX_REPORT_FD] ?? "").split("\n");
    if (result.exitCode === 42 && reports.includes("started")) return { ok: true, sandbox };
    const said = String(result.all ?? "")
      .trim()
      .split("\n")
      .filter(Boolean)
      .at(-1);
    const how = result.timedOut
      ? `it did not finish within ${PROBE_TIMEOUT_MS / 1000} s`
      : `it exited with ${result.exitCode ?? result.signal}`;
    return { ok: false, reason: `\`unshare ${UNSHARE_FLAGS.join(" ")}\` failed: ${said ?? how}` };
  } catch (error) {
    return { ok: false, reason: `\`unshare\` could not run: ${(error as Error).message}` };
  }
}

export type SandboxSetup =
  | {
      readonly ok: true;
      /** Undefined: steps run without the sandbox (mode `off`, or `auto` with the probe failing). */
      readonly sandbox: StepSandbox | undefined;
      /** Why the sandbox is unavailable (mode `auto` only). */
      readonly unavailable?: string;
      /** What the server logs then, once. */
      readonly warning?: string;
    }
  | { readonly ok: false; readonly error: string };

/** Decides, once at start-up, whether steps run sandboxed, following `STEP_SANDBOX`. */
export async function setUpStepSandbox(
  mode: SandboxMode,
  hiddenPaths: readonly HiddenPath[],
): Promise<SandboxSetup> {
  if (mode === "off") return { ok: true, sandbox: undefined };
  const probe = await probeSandbox(hiddenPaths);
  if (probe.ok) return { ok: true, sandbox: probe.sandbox };
  if (mode === "required")
    return { ok: false, error: `STEP_SANDBOX=required but the step sandbox is unavailable: ${probe.reason}` };
  return {
    ok: true,
    sandbox: undefined,
    unavailable: probe.reason,
    warning:
      `the step sandbox is unavailable (${probe.reason}), so steps run without it: a step can read this ` +
      "process's environment through /proc (PRIVATE_KEY, WEBHOOK_SECRET, every declared secret) and the " +
      "bot's private files. Allow user namespaces (see README, Security), or set STEP_SANDBOX=off to accept this.",
  };
}

/** Reads `STEP_SANDBOX`; undefined (unset or empty) is `auto`. */
export function parseSandboxMode(value: string | undefined): SandboxMode | undefined {
  const mode = value?.trim() || "auto";
  return (SANDBOX_MODES as readonly string[]).includes(mode) ? (mode as SandboxMode) : undefined;
}

/** Calls `onReport` for each line init writes on its report descriptor. */
export function readSandboxReports(
  stream: NodeJS.EventEmitter,
  onReport: (report: SandboxReport) => void,
): void {
  let pending = "";
  stream.on("data", (chunk: Buffer | string) => {
    pending += String(chunk);
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line === "started" || line === "exited" || line === "leftovers") onReport(line);
      newline = pending.indexOf("\n");
    }
  });
}

/**
 * Why `command` could not be executed, the way execa says it outside the sandbox (`spawn X ENOENT`), or
 * undefined. Inside the sandbox a missing program would be the shell's exit 127, a failure of the step;
 * checking first keeps "could not start" an error, not a failure.
 */
export function commandStartError(
  command: Command,
  env: Record<string, string>,
  cwd: string,
): string | undefined {
  const { file } = command;
  if (file.includes("/")) {
    const absolute = path.resolve(cwd, file);
    if (!existsSync(absolute)) return `spawn ${file} ENOENT`;
    return isExecutableFile(absolute) ? undefined : `spawn ${file} EACCES`;
  }
  if (file === "") return "spawn ENOENT: no program to run";
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (isExecutableFile(path.resolve(cwd, dir || ".", file))) return undefined;
  }
  return `spawn ${file} ENOENT`;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
