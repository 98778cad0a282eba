/** `node bench/render.ts`: rewrites bench/RESULTS.md from bench/results.json (after a change to report.ts). */
import { readFileSync, writeFileSync } from "node:fs";
import { type Results, renderResults } from "./report.ts";

const file = (name: string) => new URL(name, import.meta.url);
const results = JSON.parse(readFileSync(file("results.json"), "utf8")) as Results;
writeFileSync(file("RESULTS.md"), renderResults(results));
