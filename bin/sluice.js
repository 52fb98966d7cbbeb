#!/usr/bin/env node
// The `sluice` command on Node, Bun and Deno: the compiled, bundled CLI (npm run build).
import "../dist/bundle/cli.js";
