/**
 * A minimal browser for the process suite: a cookie jar per origin and manual redirects, so a case can walk
 * the OAuth flow (bot → fake GitHub's authorize page → bot's callback) and see every hop.
 */
export interface Hop {
  readonly status: number;
  readonly location: string | null;
  readonly url: string;
  readonly text: string;
}

export class LoginClient {
  /** origin → cookie name → value */
  private readonly jar = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let cookies = this.jar.get(origin);
    if (!cookies) {
      cookies = new Map();
      this.jar.set(origin, cookies);
    }
    return cookies;
  }

  /** One request, no redirect followed; cookies sent and stored for the URL's origin. */
  async request(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Hop> {
    const { origin } = new URL(url);
    const cookies = this.cookies(origin);
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get("location");
    return {
      status: response.status,
      location: location ? new URL(location, url).toString() : null,
      url,
      text: await response.text(),
    };
  }

  /** Follows redirects (at most `max`), returning every hop. */
  async follow(url: string, max = 6): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: string | null = url;
    while (next && hops.length < max) {
      const hop = await this.request(next);
      hops.push(hop);
      next = hop.status >= 300 && hop.status < 400 ? hop.location : null;
    }
    return hops;
  }
}
