/** `GET /` when nothing tells who is asking: how to turn the dashboard on. */
export function renderDashboardOff(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>deploy-bot</title>
</head>
<body>
<h1>deploy-bot</h1>
<p>The dashboard is off: set GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and SESSION_SECRET for GitHub login, or DASHBOARD_TOKEN.</p>
</body>
</html>
`;
}
