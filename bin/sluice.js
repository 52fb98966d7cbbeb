#!/usr/bin/env node
// The `sluice` command on Node, Bun and Deno: the compiled CLI (npm run build).
import "../dist/cli/main.js";
