/**
 * Replaces secret values and tokens with `***` in text that arrives in chunks.
 *
 * A secret may be split across two chunks (a step that `printf`s half of it, sleeps, then prints the rest),
 * so the masker holds back a carry of at most `longest secret - 1` characters that could still be the start
 * of a secret, and only releases text once it is certain no secret starts there.
 */

/** The replacement for every masked value. */
export const MASK = "***";

/**
 * Secrets shorter than this are not masked: masking `a`, `1` or `yes` would garble every log line while
 * protecting nothing (a 3-character value can be guessed, and it would be revealed by *where* the
 * `***`s appear anyway). Tokens are always masked whatever their length.
 */
export const MIN_SECRET_LENGTH = 4;

export interface MaskValues {
  /** Declared secret values: masked when at least {@link MIN_SECRET_LENGTH} characters long. */
  readonly secrets?: Iterable<string>;
  /** Credentials the bot itself holds (installation tokens): always masked, with their basic-auth forms. */
  readonly tokens?: Iterable<string>;
}

/** A streaming masker: `push` returns text that is safe to emit, `flush` returns what was held back. */
export interface Masker {
  push(text: string): string;
  flush(): string;
}

/** The distinct strings to mask, longest first, including the forms a token travels in (basic auth). */
export function maskPatterns(values: MaskValues): string[] {
  const patterns = new Set<string>();
  for (const secret of values.secrets ?? []) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    patterns.add(secret);
    // A multi-line secret (a PEM key) is also masked line by line, as a program may print it re-wrapped.
    if (secret.includes("\n")) {
      for (const line of secret.split(/\r?\n/))
        if (line.trim().length >= MIN_SECRET_LENGTH) patterns.add(line);
    }
  }
  for (const token of values.tokens ?? []) {
    if (token.length === 0) continue;
    patterns.add(token);
    patterns.add(Buffer.from(`x-access-token:${token}`).toString("base64"));
    patterns.add(Buffer.from(token).toString("base64"));
  }
  return [...patterns].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Masks every pattern in one complete piece of text (no carry): for error messages and stored details. */
export function maskText(text: string, values: MaskValues): string {
  const patterns = maskPatterns(values);
  if (patterns.length === 0) return text;
  return text.replace(new RegExp(patterns.map(escapeRegExp).join("|"), "g"), MASK);
}

/** A masker for one stream of text; see the module comment for how split secrets are caught. */
export function createMasker(values: MaskValues): Masker {
  const patterns = maskPatterns(values);
  if (patterns.length === 0) return { push: (text) => text, flush: () => "" };
  // Longest first: at a given position the alternation takes the longest secret that matches there.
  const regex = new RegExp(patterns.map(escapeRegExp).join("|"), "g");
  const hold = (patterns[0]?.length ?? 1) - 1;
  let carry = "";
  return {
    push(chunk) {
      const text = carry + chunk;
      // A secret starting before `limit` fits entirely inside `text`, so "no match here" is final there.
      const limit = text.length - hold;
      let out = "";
      let pos = 0;
      regex.lastIndex = 0;
      for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
        if (match.index >= limit) break;
        out += text.slice(pos, match.index) + MASK;
        pos = match.index + match[0].length;
      }
      const emitEnd = Math.max(pos, limit);
      out += text.slice(pos, emitEnd);
      carry = text.slice(emitEnd);
      return out;
    },
    flush() {
      const rest = carry.replace(regex, MASK);
      carry = "";
      return rest;
    },
  };
}
