#!/usr/bin/env node
// The CLI is written in TypeScript and run with Node's built-in type stripping (Node >= 22.18).
import "../src/cli/main.ts";
