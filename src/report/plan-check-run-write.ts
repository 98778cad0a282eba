/**
 * Which write brings a run's check run up to date with what it should show now. Pure.
 *
 * | what the store knows                              | now                      | write                          |
 * |---------------------------------------------------|--------------------------|--------------------------------|
 * | nothing                                           | anything                 | create                         |
 * | a create was marked, no id came back              | anything                 | find the lost one, else create |
 * | a completed check run                             | not completed (approved, | create a new one (the old one  |
 * |                                                   | a manual deploy started) | stays as history)              |
 * | a check run, other fields than last sent          | anything                 | update it                      |
 * | a check run, the same fields                      | anything                 | nothing                        |
 */
import type { SentCheckRun } from "../store/sent-check-runs.ts";
import type { CheckRunStatus } from "./render-check-run.ts";

export type CheckRunWrite =
  | { readonly kind: "none" }
  /** `replaces`: the completed check run the new one follows (null for a run's first). */
  | { readonly kind: "create"; readonly replaces: number | null }
  | { readonly kind: "find-or-create"; readonly replaces: number | null }
  | { readonly kind: "update"; readonly checkRunId: number };

export function planCheckRunWrite(
  known: SentCheckRun | undefined,
  now: { readonly status: CheckRunStatus; readonly bodySha256: string },
): CheckRunWrite {
  if (!known) return { kind: "create", replaces: null };
  if (known.checkRunId === null)
    return { kind: known.createStarted ? "find-or-create" : "create", replaces: known.replacedCheckRunId };
  if (known.completed && now.status !== "completed") return { kind: "create", replaces: known.checkRunId };
  if (known.bodySha256 !== now.bodySha256) return { kind: "update", checkRunId: known.checkRunId };
  return { kind: "none" };
}
