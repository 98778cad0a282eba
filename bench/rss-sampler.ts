import { memoryOf } from "./server-process.ts";

/** Samples a process's VmRSS every `everyMs` until stopped; returns the largest sample and the last one. */
export function sampleRss(pid: number, everyMs = 250): { stop(): { maxRss: number; lastRss: number } } {
  let maxRss = memoryOf(pid).rss;
  let lastRss = maxRss;
  const timer = setInterval(() => {
    lastRss = memoryOf(pid).rss;
    if (lastRss > maxRss) maxRss = lastRss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      lastRss = memoryOf(pid).rss || lastRss;
      maxRss = Math.max(maxRss, lastRss);
      return { maxRss, lastRss };
    },
  };
}
