import { execFileSync } from "node:child_process";
import { mkdir, readFile, symlink, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  environmentUrlProblem,
  freshOutputFile,
  OUTPUT_MAX_BYTES,
  parseStepOutput,
  readStepOutput,
} from "../../src/exec/step-output.ts";
import { makeTempDir, removeTempDirs } from "../helpers/git-remote.ts";

afterAll(removeTempDirs);

describe("environmentUrlProblem", () => {
  it.each([
    ["https://staging.example.com/", undefined],
    ["http://127.0.0.1:8080/app?x=1#y", undefined],
    ["javascript:alert(1)", "not an http(s) URL"],
    ["JavaScript:alert(1)", "not an http(s) URL"],
    ["data:text/html,<script>", "not an http(s) URL"],
    ["file:///etc/passwd", "not an http(s) URL"],
    ["ftp://example.com/", "not an http(s) URL"],
    ["//example.com", "not a URL"],
    ["example.com", "not a URL"],
    ["https://user:pass@example.com/", "carries credentials"],
    ["https://example.com/a b", "contains whitespace or control characters"],
    ["https://example.com/\u0000", "contains whitespace or control characters"],
    ["https://example.com/\u001b[31m", "contains whitespace or control characters"],
    ["https://example.com/\uFFFD", "not valid UTF-8"],
    [`https://example.com/${"a".repeat(2100)}`, "longer than 2048 characters"],
  ])("%j → %s", (value, problem) => {
    expect(environmentUrlProblem(value)).toBe(problem);
  });
});

describe("parseStepOutput", () => {
  const parse = (text: string | Buffer, mask = {}) =>
    parseStepOutput(typeof text === "string" ? Buffer.from(text) : text, mask);

  it.each([
    ["a plain line", "environment_url=https://a.example/\n", "https://a.example/", []],
    ["CRLF", "environment_url=https://a.example/x\r\n", "https://a.example/x", []],
    ["no final newline", "environment_url=https://a.example", "https://a.example/", []],
    ["spaces around", "  environment_url = https://a.example/  \n", "https://a.example/", []],
    ["the last one wins", "environment_url=https://a/\nenvironment_url=https://b/\n", "https://b/", []],
    ["other keys are ignored", "version=1.2.3\nenvironment_url=https://a/\n", "https://a/", []],
    ["a value with =", "environment_url=https://a/?x=1&y=2\n", "https://a/?x=1&y=2", []],
    [
      "javascript: is refused",
      "environment_url=javascript:alert(document.cookie)\n",
      undefined,
      ["environment_url on line 1 ignored: not an http(s) URL"],
    ],
    [
      "a bad one does not replace a good one",
      "environment_url=https://good/\nenvironment_url=javascript:x\n",
      "https://good/",
      ["environment_url on line 2 ignored: not an http(s) URL"],
    ],
    ["garbage lines", "hello world\n\n", undefined, ["line 1 is not key=value"]],
    ["empty", "", undefined, []],
  ])("%s", (_what, text, url, problems) => {
    expect(parse(text)).toEqual({ ...(url === undefined ? {} : { environmentUrl: url }), problems });
  });

  it("ignores binary", () => {
    const bytes = Buffer.concat([
      Buffer.from("environment_url=https://a/\u0000\n"),
      Buffer.from([0xff, 0xfe, 0x00, 0x01]),
    ]);
    const out = parse(bytes);
    expect(out.environmentUrl).toBeUndefined();
    expect(out.problems[0]).toBe(
      "environment_url on line 1 ignored: contains whitespace or control characters",
    );
  });

  it("refuses a URL holding a secret, without repeating it", () => {
    const out = parse("environment_url=https://example.com/?token=hunter2hunter2\n", {
      secrets: ["hunter2hunter2"],
    });
    expect(out).toEqual({ problems: ["environment_url on line 1 ignored: contains a secret"] });
  });

  it("reads only the first 64 KiB, and never a line cut at the limit", () => {
    const filler = `${"x=1\n".repeat(OUTPUT_MAX_BYTES / 4 - 1)}`;
    const text = `environment_url=https://first/\n${filler}environment_url=https://cut-off-here/\n`;
    const out = parse(text);
    expect(out.environmentUrl).toBe("https://first/");
    expect(out.problems).toEqual([`only the first ${OUTPUT_MAX_BYTES} bytes were read`]);
  });
});

describe("readStepOutput", () => {
  it("reads a fresh file a step appended to", async () => {
    const dir = await makeTempDir("deploy-bot-output-");
    const file = await freshOutputFile(dir, 0);
    expect(await readFile(file, "utf8")).toBe("");
    await writeFile(file, "environment_url=https://ok.example/\n", { flag: "a" });
    expect(await readStepOutput(file)).toEqual({ environmentUrl: "https://ok.example/", problems: [] });
    // The next step's file starts empty again, whatever the last one left there.
    await writeFile(file, "environment_url=https://stale/\n");
    const again = await freshOutputFile(dir, 0);
    expect(await readStepOutput(again)).toEqual({ problems: [] });
  });

  it("does not follow a symlink the step put in its place", async () => {
    const dir = await makeTempDir("deploy-bot-output-");
    const secret = path.join(dir, "secret.txt");
    await writeFile(secret, "environment_url=https://leaked.example/\n");
    const file = await freshOutputFile(dir, 1);
    await unlink(file);
    await symlink(secret, file);
    expect(await readStepOutput(file)).toEqual({ problems: ["DEPLOYBOT_OUTPUT could not be read (ELOOP)"] });
    // ... and a fresh file replaces the link, not what it points to.
    await freshOutputFile(dir, 1);
    expect(await readFile(secret, "utf8")).toBe("environment_url=https://leaked.example/\n");
  });

  it("does not block on a FIFO, nor read a directory", async () => {
    const dir = await makeTempDir("deploy-bot-output-");
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    expect(await readStepOutput(fifo)).toEqual({ problems: ["DEPLOYBOT_OUTPUT is not a regular file"] });
    const sub = path.join(dir, "sub");
    await mkdir(sub);
    expect(await readStepOutput(sub)).toEqual({ problems: ["DEPLOYBOT_OUTPUT is not a regular file"] });
  });

  it("reads a missing file (the step deleted it) as nothing reported", async () => {
    const dir = await makeTempDir("deploy-bot-output-");
    expect(await readStepOutput(path.join(dir, "gone"))).toEqual({ problems: [] });
  });

  it("keeps memory bounded for a huge file", async () => {
    const dir = await makeTempDir("deploy-bot-output-");
    const file = await freshOutputFile(dir, 2);
    await writeFile(file, Buffer.alloc(8 * 1024 * 1024, "a"));
    const out = await readStepOutput(file);
    expect(out.problems).toContain(`only the first ${OUTPUT_MAX_BYTES} bytes were read`);
  });
});
