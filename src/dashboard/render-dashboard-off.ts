import { pageHead } from "../server/html-page.ts";

/** `GET /` when nothing tells who is asking: how to turn the dashboard on. */
export function renderDashboardOff(): string {
  return `${pageHead({ title: "deploy-bot" })}
<body>
<h1>deploy-bot</h1>
<p>The dashboard is off: set GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and SESSION_SECRET for GitHub login, or DASHBOARD_TOKEN.</p>
</body>
</html>
`;
}
