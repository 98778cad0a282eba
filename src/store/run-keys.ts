/** Ids the store gives runs. */
import { randomBytes } from "node:crypto";

/** 128 random bits: a run id is the capability to read its page, so it must not be guessable. */
export function newRunId(): string {
  return randomBytes(16).toString("base64url");
}
