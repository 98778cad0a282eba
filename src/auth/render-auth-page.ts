/** The login's own small pages (an error, logged out): self-contained, escaped, no scripts. */
import { escapeHtml } from "../report/escape-html.ts";
import { pageHead } from "../server/html-page.ts";

const STYLE = `body{font:16px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;color:#1f2328}
a{color:#0550ae}`;

export function renderAuthPage(title: string, message: string): string {
  return `${pageHead({ title: `${title} · deploy-bot`, style: STYLE })}
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p><a href="/auth/login">Log in with GitHub</a></p>
</main>
</body>
</html>
`;
}
