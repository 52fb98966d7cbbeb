/**
 * The second half of `npm run build`: sluice's own modules, compiled by tsc into dist/, bundled
 * into dist/bundle/ (what the package's exports, `sluice` and deno.json point at).
 *
 * Why: on Node 20 a module costs its resolve, read and compile however small it is, and a
 * `sluice run` of ten records loaded ~190 of sluice's own. Importing sluice's entry points cost
 * 0.47–0.60 s of CPU unbundled and 0.36–0.46 s bundled (4 alternating rounds, same machine).
 *
 * - Every package (effect, zod, rxjs, the format libraries…) stays an import: a user's pipeline
 *   shares them with sluice (a user's zod schema must be an `instanceof` sluice's zod).
 * - Code splitting: the entry points share chunks, so `sluice`, `sluice/sources`… and the CLI are
 *   one instance of each module; a dynamic import (a format's reader, the DuckDB store) stays a
 *   chunk of its own, loaded when used.
 * - Every output file is in dist/bundle/ (flat), so a module's own location is known: its
 *   `import.meta.url` becomes its tsc file's URL, and `new URL("./pool-worker.js", import.meta.url)`
 *   still finds the thread entries, which run from dist/ as tsc wrote them.
 * - tsc's .d.ts files stay where they are; the exports' `types` point at them.
 */
import { readFile, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const out = join(dist, "bundle");

/** Output name (flat) → tsc output it starts from. */
export const entries = {
  index: "index.js",
  sources: "sources/index.js",
  operators: "operators/index.js",
  sinks: "sinks/index.js",
  http: "http/index.js",
  testing: "testing/index.js",
  bench: "bench/index.js",
  cli: "cli/main.js",
  // `sluice bench` measures in a child process that runs a user's scenario, which imports
  // "sluice": the child must be the bundle too, or the process would hold two copies of sluice.
  "bench-child": "bench/child.js",
};

const moduleUrl = {
  name: "sluice-module-url",
  setup(b) {
    // A module that asks for its own URL gets its tsc file's: `__sluice_module_url`, declared
    // at its top from the bundle file's URL (every output file is in dist/bundle/).
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      // These would resolve against dist/bundle/ instead of the module's own directory (a mention
      // in quotes, such as a define key, is not a use).
      const where =
        /(?<!["'`])import\.meta\.(dirname|filename)\b|import\.meta\.resolve\(\s*["'`]\.\.?\//.exec(text);
      if (where)
        throw new Error(`${args.path}: \`${where[0]}\` cannot be bundled; use new URL(…, import.meta.url)`);
      if (!text.includes("import.meta.url")) return undefined;
      const rel = relative(out, args.path).split("\\").join("/");
      // On the module's first line, so its source map (tsc's, chained by esbuild) stays aligned.
      return {
        contents: `const __sluice_module_url = new URL(${JSON.stringify(rel)}, Object(import.meta).url).href;${text}`,
        loader: "js",
      };
    });
  },
};

// Chunk names are content hashes: without this, chunks of earlier builds would stay (and ship).
await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(dist, v)])),
  outdir: out,
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  define: { "import.meta.url": "__sluice_module_url" },
  plugins: [moduleUrl],
  logLevel: "warning",
  metafile: true,
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
console.log(`bundled dist/ into ${relative(root, out)}/ (${files.length} files)`);
