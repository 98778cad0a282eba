/**
 * Process suite, in a real browser: Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`) driven by
 * playwright-core. Log in through the fake GitHub's OAuth pages, see the run on the dashboard, filter by
 * state with the form (no JavaScript on the page), open the run page, log out.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { expect } from "vitest";
import { DASHBOARD_CONFIG, LOGIN_ENV, OAUTH, USERS } from "./dashboard.case.ts";
import { FULL_NAME, withScenario } from "./scenario.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** CI installs Chromium (`.ci/run`), so there a missing browser fails instead of skipping. */
export const skipBrowser = !existsSync(CHROMIUM) && process.env.CI !== "true";

export async function browserLogin(): Promise<void> {
  await withScenario(
    { configYaml: DASHBOARD_CONFIG, env: LOGIN_ENV, users: USERS, oauth: OAUTH },
    async (s) => {
      const sha = await s.work.commit({ "src/app.txt": "v1" });
      await s.work.push("main");
      expect((await s.bot.send("push", s.pushPayload(sha))).status).toBe(202);
      await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
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
        // Unauthenticated: / → /auth/login → the fake GitHub's authorize page → /auth/callback → /.
        await page.goto(`${s.bot.url}/`);
        expect(page.url()).toBe(`${s.bot.url}/`);
        await expect.poll(() => page.getByRole("heading", { name: "Recent runs" }).count()).toBe(1);
        expect(await page.locator("header").textContent()).toContain("Signed in as reader");
        const runs = page.locator('section[aria-labelledby="runs-heading"] tbody tr');
        expect(await runs.count()).toBe(2);
        expect(await runs.first().textContent()).toContain(FULL_NAME);
        expect(await runs.first().textContent()).toContain(sha.slice(0, 7));
        if (process.env.DASHBOARD_SCREENSHOT)
          await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });

        // Filter with the form: nothing failed; then only what passed.
        await page.locator("#f-state").selectOption("failed");
        await page.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/state=failed/);
        expect(await page.getByText("No runs match.").count()).toBe(1);
        await page.locator("#f-state").selectOption("passed");
        await page.locator("#f-environment").selectOption("production");
        await page.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/state=passed&environment=production/);
        expect(await runs.count()).toBe(1);

        // The run page, behind the same login.
        await runs.first().getByRole("link", { name: "deploy" }).click();
        await page.waitForURL(/\/runs\//);
        expect(await page.locator("h1").textContent()).toContain("deploy");

        // Log out; GitHub no longer signs anyone in, so the dashboard stays closed.
        await page.goto(`${s.bot.url}/`);
        await page.getByRole("button", { name: "Log out" }).click();
        await expect.poll(() => page.getByRole("heading", { name: "Logged out" }).count()).toBe(1);
        expect((await context.cookies(s.bot.url)).map((c) => c.name)).not.toContain("deploybot_session");
        s.github.users.signIn("nobody");
        await page.goto(`${s.bot.url}/`);
        expect(page.url()).toMatch(new RegExp(`^${s.github.url}/login/oauth/authorize\\?`));
        expect(await page.content()).not.toContain(FULL_NAME);
      } catch (error) {
        const page = context.pages()[0];
        if (page) await writeFile("/tmp/dash-page.html", `${page.url()}\n${await page.content()}`);
        throw error;
      } finally {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      }
    },
  );
}
