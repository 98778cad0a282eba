/** The messages between the main thread and the thread that owns embedded PGlite (one definition of each). */
import type { Row } from "./database.ts";

export type ThreadRequest =
  | {
      readonly id: number;
      readonly op: "query";
      readonly sql: string;
      readonly params: readonly unknown[];
      /** Outside our transactions: roll back whatever the failed statement left open (see the worker). */
      readonly standalone: boolean;
    }
  | { readonly id: number; readonly op: "exec"; readonly sql: string; readonly standalone: boolean }
  | { readonly id: number; readonly op: "close" };

export type ThreadReply =
  | { readonly id: number; readonly ok: true; readonly rows: Row[] }
  | { readonly id: number; readonly ok: true; readonly results: Row[][] }
  | { readonly id: number; readonly ok: false; readonly error: SerialisedError };

/** Sent once, before any reply: the database opened, or why it could not. */
export type ThreadStarted =
  | { readonly ready: true }
  | { readonly ready: false; readonly error: SerialisedError };

/** A PostgreSQL error's fields that callers read (`code` for unique violations and the like). */
export interface SerialisedError {
  readonly message: string;
  readonly fields: Record<string, string | undefined>;
}

const ERROR_FIELDS = [
  "code",
  "detail",
  "hint",
  "constraint",
  "table",
  "column",
  "schema",
  "severity",
] as const;

export function serialiseError(error: unknown): SerialisedError {
  if (!(error instanceof Error)) return { message: String(error), fields: {} };
  const source = error as Error & Record<string, unknown>;
  const fields: Record<string, string | undefined> = {};
  for (const field of ERROR_FIELDS) if (typeof source[field] === "string") fields[field] = source[field];
  return { message: error.message, fields };
}

export function deserialiseError(error: SerialisedError): Error {
  return Object.assign(new Error(error.message), error.fields);
}
