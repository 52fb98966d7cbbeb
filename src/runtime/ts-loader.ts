/**
 * @module Loading a TypeScript pipeline file on Node 20, which cannot strip
 * types itself. tsx's loader hooks run on a thread of their own that Node
 * boots for them; measured on a 10-row pipeline that thread cost ~0.2 s of
 * CPU per run, a third of the whole run. Instead the file alone is compiled
 * with esbuild (which tsx itself uses): every import stays an import,
 * `import.meta.url` keeps meaning the file's own URL (so
 * `new URL("./score.ts", import.meta.url)` still finds a
 * worker next to it), and an inline source map keeps stack traces pointing at
 * the user's lines. The bundle is written next to the file (so packages
 * resolve from the user's `node_modules` exactly as the file's own imports
 * would), imported, and removed. A file that imports TypeScript files of its
 * own, or whose directory cannot be written, is loaded with tsx as before.
 */
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

interface EsbuildMessage {
  text: string;
  location?: { file: string; line: number; column: number; lineText: string } | null;
}

/** An esbuild error as a plain Error whose message says file:line:column and what is wrong. */
function buildError(e: unknown): Error {
  const errors = (e as { errors?: EsbuildMessage[] }).errors;
  if (!errors?.length) return e instanceof Error ? e : new Error(String(e));
  const first = errors[0];
  const where = first.location
    ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: `
    : "";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return new SyntaxError(`${where}${first.text}${more}`);
}

const TS = /\.[cm]?tsx?$/;

/**
 * Compiles the file at `path` alone and imports it; undefined when that
 * cannot serve (it imports TypeScript files of its own, which Node cannot load
 * without a loader, or the directory is not writable): the caller then uses tsx.
 */
export async function importBundled(path: string): Promise<Record<string, unknown> | undefined> {
  const esbuild = await import("esbuild");
  const target = join(dirname(path), `.${basename(path)}.${process.pid}.sluice.mjs`);
  let code: string;
  let tsImports = false;
  try {
    const out = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      packages: "external",
      format: "esm",
      platform: "node",
      target: "node20",
      write: false,
      outfile: target,
      sourcemap: "inline",
      logLevel: "silent",
      // Only this file is compiled: every import stays an import, so sluice and the
      // user's packages load once, as the file's own imports would load them.
      define: {
        "import.meta.url": JSON.stringify(pathToFileURL(path).href),
        "import.meta.dirname": JSON.stringify(dirname(path)),
        "import.meta.filename": JSON.stringify(path),
      },
      plugins: [
        {
          name: "sluice-imports-stay",
          setup(build) {
            build.onResolve({ filter: /.*/ }, (args) => {
              if (args.kind === "entry-point") return undefined;
              // A file of the user's own that Node cannot load by itself (TypeScript, or
              // a path without its extension, or `./x.js` standing for `./x.ts`) needs tsx.
              const own = /^\.\.?\//.test(args.path);
              if (own && (TS.test(args.path) || !existsSync(join(args.resolveDir, args.path))))
                tsImports = true;
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    code = out.outputFiles[0].text;
  } catch (e) {
    throw buildError(e);
  }
  if (tsImports) return undefined;
  try {
    await writeFile(target, code, { flag: "wx", mode: 0o600 });
  } catch {
    return undefined;
  }
  try {
    // Only modules loaded from here on have their maps read: sluice's own are loaded by now.
    process.setSourceMapsEnabled(true);
    return (await import(pathToFileURL(target).href)) as Record<string, unknown>;
  } finally {
    await rm(target, { force: true });
  }
}
