/**
 * Git authentication without touching disk or argv: the installation token travels as an HTTP header set
 * through `GIT_CONFIG_*` environment variables, which git reads as if they were `-c` options but which
 * (unlike argv) other users cannot read from `ps`, and (unlike a remote URL) never end up in `.git/config`.
 */

/** `Authorization: Basic …` value for GitHub's `x-access-token:<token>` convention. */
export const basicAuthValue = (token: string): string =>
  `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;

/**
 * Environment for one git process talking to `cloneUrl`. The header is scoped to the URL's origin
 * (`http.<origin>/.extraHeader`), so a redirect to another host does not receive it; credential helpers
 * are disabled and git never prompts.
 */
export function gitAuthEnv(cloneUrl: string, token: string | undefined): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0" };
  const config: [string, string][] = [["credential.helper", ""]];
  if (token) {
    const origin = new URL(cloneUrl).origin;
    config.push([`http.${origin}/.extraHeader`, `Authorization: ${basicAuthValue(token)}`]);
  }
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Every variable name {@link gitAuthEnv} may set (simple-git refuses unlisted `GIT_*` variables). */
export const GIT_AUTH_ENV_NAMES = [
  "GIT_TERMINAL_PROMPT",
  "GIT_CONFIG_COUNT",
  "GIT_CONFIG_KEY_0",
  "GIT_CONFIG_VALUE_0",
  "GIT_CONFIG_KEY_1",
  "GIT_CONFIG_VALUE_1",
] as const;
