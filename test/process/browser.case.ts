/**
 * Process suite, in a real browser: Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`) driven by
 * playwright-core. Log in through the fake GitHub's OAuth pages on the way to a running run's page and see its
 * log grow without a reload (Server-Sent Events), then the dashboard: the runs, filters with the form (no
 * JavaScript on it), log out.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { expect } from "vitest";
import { waitFor } from "./bot-process.ts";
import { LOGIN_ENV, OAUTH, USERS } from "./dashboard.case.ts";
import { FULL_NAME, withScenario } from "./scenario.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** CI installs Chromium (`.ci/run`), so there a missing browser fails instead of skipping. */
export const skipBrowser = !existsSync(CHROMIUM) && process.env.CI !== "true";

const gate = (file: string) =>
  `for i in $(seq 1 300); do [ -e ${JSON.stringify(file)} ] && break; sleep 0.1; done`;

const config = (scratch: string) => `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "tests passed"
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: |
          echo "first line"
          ${gate(path.join(scratch, "gate-1"))}
          echo "second line"
          ${gate(path.join(scratch, "gate-2"))}
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

/** Polls (bounded) until `read` gives a text containing `text`. */
const until = (what: string, read: () => Promise<string | null>, text: string) =>
  waitFor(what, async () => ((await read())?.includes(text) ? true : undefined), 15_000);

export async function browserLogin(): Promise<void> {
  await withScenario({ configYaml: config, env: LOGIN_ENV, users: USERS, oauth: OAUTH }, async (s) => {
    const sha = await s.work.commit({ "src/app.txt": "v1" });
    await s.work.push("main");
    expect((await s.bot.send("push", s.pushPayload(sha))).status).toBe(202);
    const running = await waitFor("deploy running", () =>
      s.github
        .statuses({ sha })
        .find((c) => c.context === "deploy-bot/deploy" && c.description?.startsWith("Running")),
    );
    const runUrl = running.target_url ?? "";
    s.github.users.signIn("reader");

    const profile = await mkdtemp(path.join(os.tmpdir(), "deploy-bot-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
      timeout: 30_000,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(15_000);
      // Unauthenticated: the run page → /auth/login → GitHub's authorize page → /auth/callback → the run page.
      await page.goto(runUrl);
      expect(page.url()).toBe(runUrl);
      const log = page.locator('pre[data-step="0"]');
      await until("the first line", () => log.textContent(), "first line");
      // The log grows in place: no reload (the marker survives), the new line streamed in.
      await page.evaluate(() => Object.assign(globalThis, { stillThisPage: true }));
      await writeFile(path.join(s.scratch, "gate-1"), "");
      await until("the second line, streamed", () => log.textContent(), "second line");
      expect(await page.evaluate(() => (globalThis as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
      // The run ends: the page reloads itself and shows it.
      await writeFile(path.join(s.scratch, "gate-2"), "");
      await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
      await until("the page showing the run passed", () => page.locator("h1").textContent(), "passed");

      // The dashboard: both runs.
      await page.goto(`${s.bot.url}/`);
      expect(await page.getByRole("heading", { name: "Recent runs" }).count()).toBe(1);
      expect(await page.locator("header").textContent()).toContain("Signed in as reader");
      const runs = page.locator('section[aria-labelledby="runs-heading"] tbody tr');
      expect(await runs.count()).toBe(2);
      expect(await runs.first().textContent()).toContain(FULL_NAME);
      expect(await runs.first().textContent()).toContain(sha.slice(0, 7));
      if (process.env.DASHBOARD_SCREENSHOT)
        await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });

      // Filter with the form: nothing failed; then only what passed in production.
      await page.locator("#f-state").selectOption("failed");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/state=failed/);
      expect(await page.getByText("No runs match.").count()).toBe(1);
      await page.locator("#f-state").selectOption("passed");
      await page.locator("#f-environment").selectOption("production");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/state=passed&environment=production/);
      expect(await runs.count()).toBe(1);
      await runs.first().getByRole("link", { name: "deploy" }).click();
      await page.waitForURL(runUrl);

      // Log out; GitHub no longer signs anyone in, so the dashboard stays closed.
      await page.goto(`${s.bot.url}/`);
      await page.getByRole("button", { name: "Log out" }).click();
      await until("the logged-out page", () => page.locator("h1").textContent(), "Logged out");
      expect((await context.cookies(s.bot.url)).map((c) => c.name)).not.toContain("deploybot_session");
      s.github.users.signIn("nobody");
      await page.goto(`${s.bot.url}/`);
      expect(page.url()).toMatch(new RegExp(`^${s.github.url}/login/oauth/authorize\\?`));
      expect(await page.content()).not.toContain(FULL_NAME);
    } catch (error) {
      const page = context.pages()[0];
      if (page)
        await writeFile(path.join(os.tmpdir(), "deploy-bot-browser-failure.html"), await page.content());
      throw error;
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
}
