import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LoadResult, LoadSpec } from "./load.ts";
import { pinned } from "./server-process.ts";

const LOAD_SCRIPT = fileURLToPath(new URL("./load.ts", import.meta.url));

/** Runs one autocannon load in a child process pinned to `cpu` and returns its figures. */
export function runLoadProcess(spec: LoadSpec, cpu: number): Promise<LoadResult> {
  const argv = [...pinned(cpu), process.execPath, LOAD_SCRIPT, JSON.stringify(spec)];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("exit", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || last === "") {
        reject(new Error(`load generator failed (exit ${code}): ${err}`));
        return;
      }
      resolve(JSON.parse(last) as LoadResult);
    });
  });
}
