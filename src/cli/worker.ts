/** `deploy-bot worker`: a process that only executes runs from the shared PostgreSQL queue (DATABASE_URL). */
import { boot } from "../app/boot.ts";

export async function workerCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      "usage: deploy-bot worker\n\nExecutes queued runs from DATABASE_URL; needs APP_ID and PRIVATE_KEY.",
    );
    return 0;
  }
  return boot("worker");
}
