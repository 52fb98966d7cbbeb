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
 *
 * The compiled text is kept in a per-user cache (`$XDG_CACHE_HOME/sluice/compiled`,
 * else `~/.cache/sluice/compiled`; a real directory of this user's, mode 0700, or
 * no cache at all), keyed by a hash of the file's path and text, the nearest
 * tsconfig.json's text (esbuild reads it) and esbuild's version: esbuild runs as a
 * child process, and starting it cost ~0.1 s of CPU of a ~0.7 s 10-row run
 * (measured: `node` + esbuild.build of a 10-line file 0.17 s CPU against 0.07 s
 * for `node -e 0`). A hit re-checks that every relative import still exists as
 * the file it named, so a helper renamed to `.ts` is noticed and tsx takes over.
 * What esbuild compiled is stored only if the file still holds the text hashed.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

/** Bumped when the compile options below change, so older cache entries are not used. */
const CACHE_FORMAT = "2";

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
  const source = await readFile(path, "utf8");
  const key = createHash("sha256")
    .update(`${CACHE_FORMAT}\0${process.version}\0${await esbuildVersion()}\0${path}\0${source}\0`)
    .update(await nearestTsconfig(dirname(path)))
    .digest("hex")
    .slice(0, 40);
  // Named by process and text: an edited file imported again in this process is a new module.
  const target = join(dirname(path), `.${basename(path)}.${process.pid}.${key.slice(0, 8)}.sluice.mjs`);
  const cache = await cacheEntry(key);
  let code = cache ? await cachedCode(cache) : undefined;
  if (code === undefined) {
    const compiled = await compile(path, target);
    if (!compiled) return undefined;
    code = compiled.code;
    // esbuild read the file itself: keep its output only if that was the text hashed.
    if (cache && (await readFile(path, "utf8").catch(() => undefined)) === source)
      await storeCode(cache, compiled);
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

interface Compiled {
  readonly code: string;
  /** The file's relative imports, as resolved paths that must still exist for the code to serve. */
  readonly own: readonly string[];
}

/** The cache file for this key, or undefined when there is no cache directory that is ours alone. */
async function cacheEntry(key: string): Promise<string | undefined> {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const dir = join(base, "sluice", "compiled");
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A real directory (not a link to one), this user's, that no one else can write.
    const info = await lstat(dir);
    if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0)
      return undefined;
  } catch {
    return undefined;
  }
  return join(dir, `${key}.json`);
}

/** The text of the tsconfig.json esbuild would use (the nearest one up from `dir`), or "". */
async function nearestTsconfig(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    const text = await readFile(join(d, "tsconfig.json"), "utf8").catch(() => undefined);
    if (text !== undefined) return text;
    if (dirname(d) === d) return "";
  }
}

let esbuildVersionText: Promise<string> | undefined;
/** esbuild's version, read from its package.json (importing esbuild itself costs a child process). */
function esbuildVersion(): Promise<string> {
  esbuildVersionText ??= readFile(createRequire(import.meta.url).resolve("esbuild/package.json"), "utf8")
    .then((t) => String((JSON.parse(t) as { version?: unknown }).version))
    .catch(() => "unknown");
  return esbuildVersionText;
}

async function cachedCode(file: string): Promise<string | undefined> {
  try {
    const entry = JSON.parse(await readFile(file, "utf8")) as Partial<Compiled>;
    if (typeof entry.code !== "string" || !Array.isArray(entry.own)) return undefined;
    return entry.own.every((p) => typeof p === "string" && existsSync(p)) ? entry.code : undefined;
  } catch {
    return undefined;
  }
}

async function storeCode(file: string, compiled: Compiled): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(compiled), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** esbuild's output for the file alone; undefined when it imports TypeScript of its own (tsx's job). */
async function compile(path: string, target: string): Promise<Compiled | undefined> {
  const esbuild = await import("esbuild");
  const ownImports: string[] = [];
  let tsImports = false;
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
              if (own) {
                const resolved = join(args.resolveDir, args.path);
                if (TS.test(args.path) || !existsSync(resolved)) tsImports = true;
                ownImports.push(resolved);
              }
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
  return tsImports ? undefined : { code, own: ownImports };
}
