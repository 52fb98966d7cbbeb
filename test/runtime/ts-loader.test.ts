/**
 * Node's loader for TypeScript pipeline files: compiled alone with esbuild, the compiled text
 * kept in a per-user cache keyed by path and text. A hit must serve the cached text, an edit
 * must compile again, and a relative import that no longer exists must send the file to tsx.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Each load is a fresh Node process (as each `sluice run` is) importing the built loader.
const loader = new URL("../../dist/runtime/ts-loader.js", import.meta.url).href;
function load(file: string): { value?: unknown; fallback?: true; error?: string } {
  const script = `import(${JSON.stringify(loader)}).then((l) => l.importBundled(${JSON.stringify(file)})).then(
    (m) => console.log(JSON.stringify(m ? { value: m.value } : { fallback: true })),
    (e) => console.log(JSON.stringify({ error: String(e.message) })))`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, TMPDIR: temp },
    encoding: "utf8",
  });
  return JSON.parse(out.trim());
}

const root = mkdtempSync(join(tmpdir(), "sluice-ts-loader-"));
const temp = join(root, "tmp");
const project = join(root, "project");
const cacheDir = () => join(temp, `sluice-compiled-${process.getuid?.() ?? "user"}`);
const entries = () => readdirSync(cacheDir()).filter((f) => f.endsWith(".json"));

beforeAll(() => {
  mkdirSync(temp);
  mkdirSync(project);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function source(value: number): string {
  return `import { helper } from "./helper.mjs";\nconst n: number = ${value};\nexport const value: number = helper(n);\n`;
}

describe("importBundled (Node's TypeScript path)", () => {
  it("compiles once, then serves the cached text until the file changes", () => {
    writeFileSync(join(project, "helper.mjs"), "export const helper = (n) => n * 10;\n");
    const file = join(project, "pipeline.ts");
    writeFileSync(file, source(1));

    expect(load(file)).toEqual({ value: 10 });
    expect(entries()).toHaveLength(1);
    const entry = join(cacheDir(), entries()[0]);
    const stored = JSON.parse(readFileSync(entry, "utf8")) as { code: string; own: string[] };
    expect(stored.own).toEqual([join(project, "helper.mjs")]);

    // A hit uses the stored text (changed here so the test can tell it from a new compile).
    writeFileSync(entry, JSON.stringify({ ...stored, code: stored.code.replace("= 1;", "= 2;") }));
    expect(load(file)).toEqual({ value: 20 });

    // An edit is a new key: compiled again, the old entry stays unused.
    writeFileSync(file, source(3));
    expect(load(file)).toEqual({ value: 30 });
    expect(entries()).toHaveLength(2);
    // The temporary module written next to the file is gone after each import.
    expect(readdirSync(project).sort()).toEqual(["helper.mjs", "pipeline.ts"]);
  });

  it("does not serve a hit whose relative import is gone: the file goes to tsx", () => {
    const file = join(project, "pipeline.ts");
    writeFileSync(file, source(4));
    expect(load(file)).toEqual({ value: 40 });
    rmSync(join(project, "helper.mjs"));
    writeFileSync(join(project, "helper.ts"), "export const helper = (n: number) => n;\n");
    expect(load(file)).toEqual({ fallback: true });
  });

  it("never reads a cache directory others can write", () => {
    writeFileSync(join(project, "helper.mjs"), "export const helper = (n) => n * 10;\n");
    const file = join(project, "pipeline.ts");
    writeFileSync(file, source(5));
    chmodSync(cacheDir(), 0o777);
    try {
      const before = entries().length;
      expect(load(file)).toEqual({ value: 50 });
      expect(entries()).toHaveLength(before);
    } finally {
      chmodSync(cacheDir(), 0o700);
    }
  });

  it("reports a syntax error with its file, line and column", () => {
    const file = join(project, "broken.ts");
    writeFileSync(file, "export const x: number = ;\n");
    expect(load(file).error).toMatch(/broken\.ts:1:\d+: /);
  });
});
