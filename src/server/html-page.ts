/** The start of every HTML page the server renders (dashboard, run pages, login pages): one `<head>`. */
import { escapeHtml } from "../report/escape-html.ts";

export interface PageHead {
  /** Shown in the tab; escaped here. */
  readonly title: string;
  /** The page's own CSS (pages carry no external resources). */
  readonly style?: string;
  /** Trusted markup after the robots tag (the run page's refresh or live-log script). */
  readonly extra?: string;
}

/** `<!doctype html>` through `</head>`: UTF-8, mobile viewport, never indexed. */
export function pageHead(head: PageHead): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${head.extra ?? ""}
<title>${escapeHtml(head.title)}</title>${head.style === undefined ? "" : `\n<style>${head.style}</style>`}
</head>`;
}
