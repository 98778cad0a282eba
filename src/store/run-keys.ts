/** Small pure derivations the store keys runs by. */
import { randomBytes } from "node:crypto";
import type { DeployEvent } from "../events/deploy-event.ts";

/** 128 random bits: a run id is the capability to read its page, so it must not be guessable. */
export function newRunId(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * What "the same branch or PR" means for superseding: a PR by number, a push by branch (or tag). A newer
 * event with the same key replaces older still-queued runs of the same repository and pipeline.
 */
export function supersedeKey(event: DeployEvent): string {
  if (event.kind === "pull_request") return `pr:${event.prNumber}`;
  if (event.branch !== undefined) return `branch:${event.branch}`;
  if (event.tag !== undefined) return `tag:${event.tag}`;
  return `ref:${event.ref}`;
}

/** The first 7 characters, as GitHub abbreviates commits. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

let lastJobMs = 0;
let jobCounter = 0;

/**
 * A UUIDv7 whose order follows the calls in this process (a 12-bit counter within a millisecond), so
 * jobs inserted in one transaction, which share pg-boss's `created_on`, still sort in arrival order.
 */
export function nextJobId(): string {
  let ms = Date.now();
  if (ms <= lastJobMs) {
    jobCounter += 1;
    if (jobCounter > 0xfff) {
      lastJobMs += 1;
      jobCounter = 0;
    }
    ms = lastJobMs;
  } else {
    lastJobMs = ms;
    jobCounter = 0;
  }
  const random = randomBytes(8);
  random[0] = (random[0]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = `${ms.toString(16).padStart(12, "0")}7${jobCounter.toString(16).padStart(3, "0")}${random.toString("hex")}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
