#!/usr/bin/env node
// The CLI is TypeScript run with Node's built-in type stripping; the version check comes first, in plain JS.
import "./require-node.js";

await import("../src/cli/main.ts");
