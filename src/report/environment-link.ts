/**
 * A run's environment URL as renderers may link it: only http(s) (the runner already refused anything else when
 * it was reported; this is the renderers' own guard, so a `javascript:` URL can never become a link).
 */
export function linkableEnvironmentUrl(url: string | null | undefined): string | undefined {
  if (!url || !/^https?:\/\/\S+$/i.test(url)) return undefined;
  return url;
}
