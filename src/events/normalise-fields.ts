/**
 * Small readers for untrusted webhook JSON. They throw `MalformedPayload`, which the `normalise-*` functions
 * catch at their boundary and turn into `Ignored("malformed payload: …")`: garbage never crashes the bot.
 */
import { isCommitSha } from "./commit-sha.ts";
import { type Ignored, ignored, type RepoRef } from "./deploy-event.ts";

export class MalformedPayload extends Error {}

/** Runs a payload reader; a `MalformedPayload` it throws becomes "ignored: malformed payload: …". */
export function ignoringMalformed<T>(read: () => T): T | Ignored {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedPayload) return ignored(`malformed payload: ${error.message}`);
    throw error;
  }
}

type Json = Record<string, unknown>;

/**
 * The keys a reader may ask for: with a schema type from `@octokit/webhooks` (`str<PushPayload>(…)`), only
 * the field names GitHub's schema has — a typo fails the typecheck; without one, any string.
 */
type Key<T> = T extends unknown ? (string extends keyof T ? string : Extract<keyof T, string>) : never;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The object at `path` (dotted, for messages), or a `MalformedPayload`. */
export function obj<T = Json>(parent: unknown, key: Key<T>, path: string): Json {
  const value = isObject(parent) ? parent[key] : undefined;
  if (!isObject(value)) throw new MalformedPayload(`${path} is not an object`);
  return value;
}

export function optionalObj<T = Json>(parent: Json, key: Key<T>): Json | undefined {
  const value = parent[key];
  return isObject(value) ? value : undefined;
}

export function str<T = Json>(parent: Json, key: Key<T>, path: string): string {
  const value = parent[key];
  if (typeof value !== "string") throw new MalformedPayload(`${path} is not a string`);
  return value;
}

export function int<T = Json>(parent: Json, key: Key<T>, path: string): number {
  const value = parent[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new MalformedPayload(`${path} is not an integer`);
  return value;
}

export function bool<T = Json>(parent: Json, key: Key<T>, fallback: boolean): boolean {
  const value = parent[key];
  return typeof value === "boolean" ? value : fallback;
}

export function arr<T = Json>(parent: Json, key: Key<T>, path: string): unknown[] {
  const value = parent[key];
  if (!Array.isArray(value)) throw new MalformedPayload(`${path} is not an array`);
  return value;
}

/** A full commit SHA (SHA-1, or SHA-256 repositories). */
export function sha<T = Json>(parent: Json, key: Key<T>, path: string): string {
  const value = str(parent, key as string, path);
  if (!isCommitSha(value)) throw new MalformedPayload(`${path} is not a commit SHA`);
  return value;
}

/** The payload's `repository`, with a clone URL that is http(s) and carries no credentials. */
export function repoRef(payload: unknown): RepoRef {
  const repository = obj(payload, "repository", "repository");
  const owner = obj(repository, "owner", "repository.owner");
  const ownerLogin =
    typeof owner.login === "string" ? owner.login : str(owner, "name", "repository.owner.login");
  const name = str(repository, "name", "repository.name");
  const fullName = str(repository, "full_name", "repository.full_name");
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(fullName) || fullName.includes("..")) {
    throw new MalformedPayload(`repository.full_name "${fullName}" is not owner/name`);
  }
  const cloneUrl = str(repository, "clone_url", "repository.clone_url");
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    throw new MalformedPayload("repository.clone_url is not a URL");
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "") {
    throw new MalformedPayload("repository.clone_url must be an http(s) URL without credentials");
  }
  return { owner: ownerLogin, name, fullName, cloneUrl, private: bool(repository, "private", true) };
}

export function installationId(payload: Json): number | undefined {
  const installation = optionalObj(payload, "installation");
  const id = installation?.id;
  return typeof id === "number" && Number.isSafeInteger(id) ? id : undefined;
}

export function senderLogin(payload: Json): string {
  const sender = optionalObj(payload, "sender");
  return typeof sender?.login === "string" ? sender.login : "";
}

export { isObject };
