/**
 * Layers point one way (issue 14 item 5): every file under src/ may import only its own layer
 * and the layers below it. Imports are read with TypeScript's own pre-processor (static and
 * dynamic imports, `export … from`, `import type`), so a comment or a string is never mistaken
 * for an import. A failure names the file, the import and the rule it breaks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/**
 * Bottom to top. A layer is a folder of src/ (or a file at its root); layers on one row are
 * peers and may not import each other. Derived from the imports of 2026-12-06.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["runtime"], // runtime differences only: node:*, Bun, Deno
  ["errors.ts"], // the tagged-error base and the error → exit code / HTTP status table
  ["duckdb"], // the embedded DuckDB client, shared by the metrics store and the DuckDB sink
  ["events"],
  ["pipeline"],
  ["journal", "sources", "operators", "sinks"],
  ["metrics", "dlq"], // dlq: dead letters as a queue, redrive (above journal, sources, sinks)
  ["http"],
  ["testing"],
  ["bench"],
  ["index.ts"], // the public barrel
  ["cli"],
];

/** Known upward imports, each with the issue that removes it. Keep this list short. */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string; why: string }> = [];

const rank = new Map<string, number>();
LAYERS.forEach((row, i) => {
  for (const layer of row) rank.set(layer, i);
});

function layerOf(file: string): string {
  return relative(src, file).split(sep)[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.[cm]?tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

/** Why `file` may not import `specifier`, or null if it may. */
function checkImport(file: string, specifier: string): string | null {
  const from = layerOf(file);
  if (!specifier.startsWith(".")) return null; // node:* (a biome rule keeps it in runtime/) or a package
  const target = resolve(dirname(file), specifier);
  const rel = relative(src, target);
  if (rel.startsWith("..")) return `src/ may not import files outside src/ (${rel})`;
  const to = layerOf(target);
  if (to === from) return null;
  if (from === "runtime") return "src/runtime/ may import only node:*, npm packages and itself";
  const rf = rank.get(from);
  const rt = rank.get(to);
  if (rf === undefined) return `layer "${from}" is not in LAYERS (test/layers.test.ts): place it`;
  if (rt === undefined) return `layer "${to}" is not in LAYERS (test/layers.test.ts): place it`;
  if (EXCEPTIONS.some((e) => e.from === from && e.to === to)) return null;
  if (rt < rf) return null;
  const order = LAYERS.map((row) => row.join("|")).join(" < ");
  return rt === rf
    ? `${from} and ${to} are peers and may not import each other (${order})`
    : `${from} may not import ${to}, a higher layer (${order})`;
}

function violations(): Violation[] {
  const out: Violation[] = [];
  for (const file of sourceFiles(src)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of info.importedFiles) {
      const rule = checkImport(file, fileName);
      if (rule) out.push({ file: relative(join(src, ".."), file), specifier: fileName, rule });
    }
  }
  return out;
}

describe("layers", () => {
  it("every src file imports only its own layer and the layers below", () => {
    const found = violations().map((v) => `${v.file} imports "${v.specifier}": ${v.rule}`);
    expect(found).toEqual([]);
  });

  it("names the file, the import and the rule for an upward import", () => {
    expect(checkImport(join(src, "runtime/fs.ts"), "../operators/index.ts")).toMatch(
      /src\/runtime\/ may import only/,
    );
    expect(checkImport(join(src, "pipeline/run.ts"), "../sinks/collect.ts")).toMatch(
      /pipeline may not import sinks, a higher layer/,
    );
    expect(checkImport(join(src, "sinks/csv.ts"), "../operators/map.ts")).toMatch(/are peers/);
    expect(checkImport(join(src, "sinks/csv.ts"), "../pipeline/types.ts")).toBeNull();
    expect(checkImport(join(src, "cli/main.ts"), "node:fs")).toBeNull();
  });

  it("every folder and root file of src/ has a place in LAYERS", () => {
    const missing = readdirSync(src).filter((name) => !rank.has(name));
    expect(missing).toEqual([]);
  });
});
