/**
 * @module Loading a TypeScript pipeline file on Node 20, which cannot strip
 * types itself. tsx's loader hooks run on a thread of their own that Node
 * boots for them; measured on a 10-row pipeline that thread cost ~0.2 s of
 * CPU per run, a third of the whole run. Instead the file is bundled once with
 * esbuild (which tsx itself uses): its relative imports (`./lib.ts`) are
 * inlined, packages stay imports, `import.meta.url` keeps meaning each
 * file's own URL (so `new URL("./score.ts", import.meta.url)` still finds a
 * worker next to it), and an inline source map keeps stack traces pointing at
 * the user's lines. The bundle is written next to the file (so packages
 * resolve from the user's `node_modules` exactly as the file's own imports
 * would), imported, and removed. Where that directory cannot be written, the
 * tsx loader is used as before.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
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

const META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/** Bundles `path` and imports it; undefined when the bundle cannot be written next to it. */
export async function importBundled(path: string): Promise<Record<string, unknown> | undefined> {
  const esbuild = await import("esbuild");
  // The source map's paths are relative to where the bundle is written.
  const target = join(dirname(path), `.${basename(path)}.${process.pid}.sluice.mjs`);
  let code: string;
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
      plugins: [
        {
          name: "sluice-import-meta",
          setup(build) {
            build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
              const text = await readFile(args.path, "utf8");
              const url = pathToFileURL(args.path).href;
              const contents = text.replace(META, (_, what: string) =>
                JSON.stringify(what === "url" ? url : what === "dirname" ? dirname(args.path) : args.path),
              );
              const ext = args.path.slice(args.path.lastIndexOf(".") + 1);
              const loader = ext.startsWith("m") || ext.startsWith("c") ? ext.slice(1) : ext;
              return { contents, loader: loader as "ts" | "tsx" | "js" | "jsx" };
            });
          },
        },
      ],
    });
    code = out.outputFiles[0].text;
  } catch (e) {
    throw buildError(e);
  }
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
