import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);

describe("log capture memory", () => {
  it("a step printing 200 MB grows RSS by far less than the output (< 120 MB)", {
    timeout: 300_000,
  }, async () => {
    const child = path.join(import.meta.dirname, "rss-child.ts");
    const { stdout } = await execFileAsync(process.execPath, ["--expose-gc", child, "200"], {
      timeout: 280_000,
    });
    const figures = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(figures.state).toBe("passed");
    expect(figures.growthMiB).toBeLessThan(120);
    // What was kept: about head (1 MiB) + tail (1 MiB), not 200 MB.
    expect(figures.storedChars).toBeLessThan(3 * 1024 * 1024);
  });
});
