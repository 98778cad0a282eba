#!/usr/bin/env node
// `npm start`: checks the Node version in plain JavaScript first, then loads the TypeScript server.
import "./require-node.js";

await import("../src/main.ts");
