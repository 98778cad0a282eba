/**
 * A stand-in for the bot process, for `sandbox.test.ts`: runs one step with `runPipeline`, in the step
 * sandbox unless `STEP_SANDBOX=off`, and prints `{ state, detail, log, pid, sandboxed }` as JSON on stdout.
 * The test starts it with a marker in its environment: what a step must not be able to read.
 *
 * Usage: node sandboxed-bot.ts <the step's `run` text>
 */
import { memoryLogSink } from "../../src/exec/capture-log.ts";
import { runPipeline } from "../../src/exec/run-pipeline.ts";
import { parseSandboxMode, setUpStepSandbox } from "../../src/exec/sandbox.ts";

const mode = parseSandboxMode(process.env.STEP_SANDBOX);
if (!mode) throw new Error(`bad STEP_SANDBOX ${process.env.STEP_SANDBOX}`);
const setup = await setUpStepSandbox(mode, []);
if (!setup.ok) throw new Error(setup.error);

const logs = memoryLogSink();
const result = await runPipeline({
  name: "test",
  pipeline: { secrets: [], env: {}, steps: [{ name: "Step", run: process.argv[2] ?? "true", env: {} }] },
  cwd: process.cwd(),
  vars: {},
  secrets: {},
  defaultTimeoutMs: 20_000,
  logs,
  killGraceMs: 500,
  ...(setup.sandbox ? { sandbox: setup.sandbox } : {}),
});
await new Promise((resolve) => setTimeout(resolve, 300)); // the capture delivers its last batch on a timer
process.stdout.write(
  JSON.stringify({
    state: result.state,
    detail: result.detail,
    log: logs.all(),
    pid: process.pid,
    sandboxed: setup.sandbox !== undefined,
  }),
);
