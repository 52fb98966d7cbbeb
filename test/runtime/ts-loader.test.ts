/**
 * Node's loader for TypeScript pipeline files: compiled alone with esbuild, the compiled text
 * kept in a per-user cache keyed by path, text, the nearest tsconfig.json and esbuild's version.
 * A hit must serve the cached text, an edit (of the file or its tsconfig) must compile again, a
 * relative import that no longer exists must send the file to tsx, and a cache directory that is
 * a link or that others can write is never used.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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
    env: { ...process.env, XDG_CACHE_HOME: temp },
    encoding: "utf8",
  });
  return JSON.parse(out.trim());
}

const root = mkdtempSync(join(tmpdir(), "sluice-ts-loader-"));
const temp = join(root, "tmp");
const project = join(root, "project");
const cacheDir = () => join(temp, "sluice", "compiled");
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
    // A tsconfig.json beside it changes what esbuild does: a new key.
    writeFileSync(join(project, "tsconfig.json"), '{ "compilerOptions": { "strict": true } }\n');
    expect(load(file)).toEqual({ value: 30 });
    expect(entries()).toHaveLength(3);
    rmSync(join(project, "tsconfig.json"));
  });

  it("does not serve a hit whose relative import is gone: the file goes to tsx", () => {
    const file = join(project, "pipeline.ts");
    writeFileSync(file, source(4));
    expect(load(file)).toEqual({ value: 40 });
    rmSync(join(project, "helper.mjs"));
    writeFileSync(join(project, "helper.ts"), "export const helper = (n: number) => n;\n");
    expect(load(file)).toEqual({ fallback: true });
  });

  it("never uses a cache directory that is a link", () => {
    writeFileSync(join(project, "helper.mjs"), "export const helper = (n) => n * 10;\n");
    const file = join(project, "pipeline.ts");
    writeFileSync(file, source(6));
    const real = join(root, "elsewhere");
    renameSync(cacheDir(), real);
    symlinkSync(real, cacheDir());
    try {
      const before = readdirSync(real).length;
      expect(load(file)).toEqual({ value: 60 });
      expect(readdirSync(real)).toHaveLength(before);
    } finally {
      rmSync(cacheDir());
      renameSync(real, cacheDir());
    }
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
