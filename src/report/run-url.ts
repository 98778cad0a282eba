/** The run page's address: `<PUBLIC_URL>/runs/<id>`, or undefined when the server has no public URL. */
export function runPageUrl(publicUrl: string | undefined, runId: string): string | undefined {
  const base = publicUrl?.replace(/\/+$/, "");
  return base ? `${base}/runs/${encodeURIComponent(runId)}` : undefined;
}
