/**
 * `/runs/live.js`: the run page's only script. It appends new log output as it arrives (Server-Sent Events
 * from `/runs/:id/events`) with `textContent` semantics (never HTML), and reloads the page when a step or the
 * run changes state. Without JavaScript the page refreshes itself instead (`<noscript>` meta refresh).
 */
export const LIVE_LOG_PATH = "/runs/live.js";

export const LIVE_LOG_SCRIPT = `// deploy-bot: live log for the run page.
(() => {
  const url = document.body.dataset.live;
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  source.addEventListener("log", (event) => {
    const { step, text } = JSON.parse(event.data);
    const pre = document.querySelector('pre[data-step="' + Number(step) + '"]');
    if (!pre) { source.close(); location.reload(); return; }
    if (pre.hasAttribute("data-empty")) { pre.textContent = ""; pre.removeAttribute("data-empty"); }
    pre.append(String(text));
  });
  source.addEventListener("reload", () => { source.close(); location.reload(); });
  source.addEventListener("end", () => source.close());
})();
`;
