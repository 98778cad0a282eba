/** Where a step runs: `workdir` is relative to the checkout and must stay inside it, symlinks included. */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";

export type WorkdirResult = { ok: true; dir: string } | { ok: false; reason: string };

/** True when `child` is `parent` or below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Resolves a step's `workdir` against the checkout. Checked on the real path (after following symlinks)
 * because a repository can contain `docs -> /etc`: a lexical check alone would let a step out.
 */
export async function resolveWorkdir(checkout: string, workdir: string | undefined): Promise<WorkdirResult> {
  let root: string;
  try {
    root = await realpath(checkout);
  } catch {
    return { ok: false, reason: "the checkout directory does not exist" };
  }
  if (workdir === undefined) return { ok: true, dir: root };
  if (path.isAbsolute(workdir) || workdir.includes("\0")) {
    return { ok: false, reason: `workdir "${workdir}" must be a relative path inside the checkout` };
  }
  const lexical = path.resolve(root, workdir);
  if (!isInside(root, lexical)) return { ok: false, reason: `workdir "${workdir}" is outside the checkout` };
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    return { ok: false, reason: `workdir "${workdir}" does not exist` };
  }
  if (!isInside(root, real)) return { ok: false, reason: `workdir "${workdir}" points outside the checkout` };
  if (!(await stat(real)).isDirectory())
    return { ok: false, reason: `workdir "${workdir}" is not a directory` };
  return { ok: true, dir: real };
}
