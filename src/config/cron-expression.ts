/** Cron expressions of `on.schedule`: 5 fields, evaluated in UTC by cron-parser (as pg-boss evaluates them). */
import { CronExpressionParser } from "cron-parser";

/** Why `cron` is not a 5-field UTC cron expression, or undefined when it is. */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return `invalid cron expression ${JSON.stringify(cron)}: use 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"`;
  }
  try {
    CronExpressionParser.parse(cron, { tz: "UTC", strict: false });
    return undefined;
  } catch (error) {
    return `invalid cron expression ${JSON.stringify(cron)}: ${(error as Error).message}`;
  }
}
