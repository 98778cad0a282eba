/**
 * Process suite, the dashboard behind GitHub login: unauthenticated pages redirect to the login; the OAuth
 * flow through the fake GitHub's web host; a reader sees the repository's runs and deliveries with reasons;
 * a user without access sees nothing of it (not even its name) and its run page is "not found"; a replayed
 * callback is refused; a session cookie replayed after logout opens nothing; `/metrics` counts what happened.
 */
import { expect } from "vitest";
import { escapeHtml } from "../../src/report/escape-html.ts";
import { parseScrape } from "../helpers/scrape.ts";
import { LoginClient } from "./login-client.ts";
import { FULL_NAME, REPO, withScenario } from "./scenario.ts";

export const OAUTH = { clientId: "Iv1.processsuite0001", clientSecret: "process-suite-oauth-client-secret" };
export const LOGIN_ENV = {
  GITHUB_CLIENT_ID: OAUTH.clientId,
  GITHUB_CLIENT_SECRET: OAUTH.clientSecret,
  SESSION_SECRET: "process-suite-session-secret-0123456789abcdef",
};
export const USERS = [
  { login: "reader", id: 501, repositories: [FULL_NAME] },
  { login: "outsider", id: 502, repositories: ["Codertocat/Other-Repo"] },
];

export const DASHBOARD_CONFIG = `version: 1
pipelines:
  test:
    steps:
      - name: Unit tests
        run: echo "tests passed at $DEPLOYBOT_SHA"
  deploy:
    environment: production
    steps:
      - name: Deploy
        run: echo "deploying $DEPLOYBOT_REPO"
rules:
  - name: deploy main
    on:
      push:
        branches: [main]
    run: [test, deploy]
`;

/** The whole login: bot → GitHub's authorize page → the bot's callback → where the user was going. */
export async function logIn(client: LoginClient, botUrl: string, githubUrl: string, path = "/") {
  const hops = await client.follow(`${botUrl}${path}`);
  expect(hops.map((h) => h.status)).toEqual([302, 302, 302, 302, 200]);
  expect(hops[1]?.url).toMatch(new RegExp(`^${botUrl}/auth/login\\?return_to=`));
  expect(hops[2]?.url).toMatch(new RegExp(`^${githubUrl}/login/oauth/authorize\\?`));
  expect(hops[3]?.url).toMatch(new RegExp(`^${botUrl}/auth/callback\\?code=[0-9a-f]+&state=`));
  return hops;
}

export async function dashboardBehindLogin(): Promise<void> {
  await withScenario(
    { configYaml: DASHBOARD_CONFIG, env: LOGIN_ENV, users: USERS, oauth: OAUTH },
    async (s) => {
      const sha = await s.work.commit({ "src/app.txt": "v1" });
      await s.work.push("main");
      expect((await s.bot.send("push", s.pushPayload(sha))).status).toBe(202);
      const ignoredPayload = s.pushPayload(sha);
      ignoredPayload.ref = "refs/heads/feature/x";
      const ignored = await s.bot.send("push", ignoredPayload);
      expect(ignored.text).toMatch(/^ignored: /);
      const reason = ignored.text.trim();
      const statuses = await s.finalStatuses(sha, ["deploy-bot/test", "deploy-bot/deploy"]);
      const runPath = new URL(statuses.get("deploy-bot/deploy")?.at(-1)?.target_url ?? "").pathname;

      // Nobody logged in: every page sends the browser to the login.
      const anonymous = new LoginClient();
      for (const path of ["/", runPath, `${runPath}/log`, `${runPath}/events`, "/?state=passed"]) {
        const hop = await anonymous.request(`${s.bot.url}${path}`);
        expect(hop.status, path).toBe(302);
        expect(hop.location).toBe(`${s.bot.url}/auth/login?return_to=${encodeURIComponent(path)}`);
        expect(hop.text).not.toContain(REPO);
      }

      // A reader of the repository: its runs, environments and deliveries with reasons.
      const reader = new LoginClient();
      s.github.users.signIn("reader");
      const hops = await logIn(reader, s.bot.url, s.github.url);
      const dashboard = hops.at(-1)?.text ?? "";
      expect(dashboard).toContain("Signed in as <strong>reader</strong>");
      expect(dashboard).toContain(`<td>${FULL_NAME}</td>`);
      expect(dashboard).toContain(`<code>${sha.slice(0, 7)}</code>`);
      expect(dashboard).toContain(`href="${runPath}">deploy</a>`);
      expect(dashboard).toContain(escapeHtml(reason));
      expect(dashboard).toContain("accepted: 2 runs");
      const deployed =
        /<td>production<\/td><td><a href="([^"]+)"><code>([0-9a-f]{7})<\/code><\/a> deploy/.exec(dashboard);
      expect(deployed?.slice(1)).toEqual([runPath, sha.slice(0, 7)]);
      const filtered = await reader.request(`${s.bot.url}/?state=failed`);
      expect(filtered.text).toContain("No runs match.");
      const page = await reader.request(`${s.bot.url}${runPath}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(FULL_NAME);
      expect((await reader.request(`${s.bot.url}${runPath}/log`)).text).toContain(`deploying ${FULL_NAME}`);
      // The live stream of a finished run: its log rows, then the end.
      const events = await reader.request(`${s.bot.url}${runPath}/events`);
      expect(events.text).toContain("event: log\ndata: ");
      expect(events.text).toMatch(/event: end\ndata: \{\}\n\n$/);

      // A user of the App who cannot read this repository sees nothing of it.
      const outsider = new LoginClient();
      s.github.users.signIn("outsider");
      const outsiderHops = await logIn(outsider, s.bot.url, s.github.url);
      const theirs = outsiderHops.at(-1)?.text ?? "";
      expect(theirs).toContain("Signed in as <strong>outsider</strong>");
      expect(theirs).not.toContain(REPO);
      expect(theirs).not.toContain(sha.slice(0, 7));
      expect(
        (await outsider.request(`${s.bot.url}/?repo=${encodeURIComponent(FULL_NAME)}`)).text,
      ).not.toContain(REPO);
      for (const path of [runPath, `${runPath}/log`, `${runPath}/events`]) {
        const hop = await outsider.request(`${s.bot.url}${path}`);
        expect(hop.status, path).toBe(404);
        expect(hop.text).not.toContain(REPO);
      }

      // The reader's callback, replayed with the same browser state, is refused; GitHub is not asked twice.
      const callback = hops[3]?.url ?? "";
      const exchanges = s.github.users.exchanges.length;
      reader.cookies(new URL(s.bot.url).origin).set("deploybot_login", "replayed-cookie-is-gone");
      expect((await reader.request(callback)).status).toBe(400);
      expect(s.github.users.exchanges.length).toBe(exchanges);

      // Logout: the session cookie, kept and replayed, opens nothing.
      const session = reader.cookies(new URL(s.bot.url).origin).get("deploybot_session") ?? "";
      expect(session).toMatch(/^v1\./);
      const out = await reader.request(`${s.bot.url}/auth/logout`, {
        method: "POST",
        headers: { origin: s.bot.url },
      });
      expect(out.status).toBe(200);
      expect(reader.cookies(new URL(s.bot.url).origin).has("deploybot_session")).toBe(false);
      const replay = await fetch(`${s.bot.url}/`, {
        headers: { cookie: `deploybot_session=${session}` },
        redirect: "manual",
      });
      expect(replay.status).toBe(302);
      expect(await replay.text()).not.toContain(REPO);
      // The GitHub token is revoked at GitHub, too.
      expect(s.github.users.revoked).toEqual(["reader"]);

      // The real server's /metrics counts what this case did.
      const metrics = await s.bot.get("/metrics");
      expect(metrics.status).toBe(200);
      const scrape = parseScrape(metrics.text);
      expect(scrape.value("deploybot_webhook_deliveries_total", { event: "push", outcome: "accepted" })).toBe(
        1,
      );
      expect(scrape.value("deploybot_webhook_deliveries_total", { event: "push", outcome: "ignored" })).toBe(
        1,
      );
      expect(scrape.value("deploybot_runs_finished_total", { pipeline: "deploy", state: "passed" })).toBe(1);
    },
  );
}
