/** Ids for pg-boss jobs, ordered by creation within this process. */
import { randomBytes } from "node:crypto";

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
