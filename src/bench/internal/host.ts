/**
 * @module What `sluice bench` needs around a measurement: the command that runs a script on a
 * given runtime, the git revision of the code under test, and a Node bundle of a TypeScript
 * entry. The operating-system parts (child processes, CPU time, memory, machine description)
 * are in `src/runtime/child-process.ts` and `src/runtime/host.ts`, re-exported here.
 */
import { execPath, findBinary, pathExists, runProcess } from "../../runtime/child-process.ts";
import { type RuntimeName, runtimeName } from "../../runtime/detect.ts";
import { fs, paths } from "../../runtime/fs.ts";

export { type ProcessOptions, type ProcessResult, runProcess } from "../../runtime/child-process.ts";
export {
  cpuTimeMs,
  loadAverage1m,
  type MachineInfo,
  machineInfo,
  peakRssBytes,
  rssBytes,
} from "../../runtime/host.ts";

/** How to start a script on a runtime: the binary and the arguments before the script's own. */
export interface RuntimeCommand {
  readonly runtime: RuntimeName;
  readonly cmd: string;
  readonly args: readonly string[];
}

export interface RuntimeCommandOptions {
  /** The project root: `node_modules/.bin/<runtime>` and `deno.json` are looked up there. */
  readonly root: string;
  /** V8 old-space limit in MiB (Node and Deno; Bun's JavaScriptCore has no such flag). */
  readonly maxOldSpaceMb?: number;
}

/**
 * The command that runs `script` (a path) on `runtime`, or a sentence saying
 * why it cannot. The running runtime uses its own binary; the others are
 * taken from `node_modules/.bin` (npm install brings all three) or the PATH.
 * On Node a TypeScript script is loaded through tsx.
 */
export function runtimeCommand(
  runtime: RuntimeName,
  script: string,
  options: RuntimeCommandOptions,
): RuntimeCommand | string {
  const bin = runtime === runtimeName ? execPath() : findBinary(runtime, options.root);
  if (!bin) {
    return `${runtime} is not installed (not in ${paths.join(options.root, "node_modules", ".bin")} nor on the PATH)`;
  }
  const cap = options.maxOldSpaceMb;
  switch (runtime) {
    case "node": {
      const args: string[] = cap ? [`--max-old-space-size=${cap}`] : [];
      if (/\.[cm]?tsx?$/.test(script)) args.push("--import", tsxLoaderUrl());
      return { runtime, cmd: bin, args: [...args, script] };
    }
    case "bun":
      return { runtime, cmd: bin, args: [script] };
    case "deno": {
      const args = ["run", "-A", "--quiet"];
      const config = paths.join(options.root, "deno.json");
      if (pathExists(config)) args.push(`--config=${config}`);
      if (cap) args.push(`--v8-flags=--max-old-space-size=${cap}`);
      return { runtime, cmd: bin, args: [...args, script] };
    }
  }
}

/** tsx's ESM loader as an absolute URL, so `--import` works from any working directory. */
function tsxLoaderUrl(): string {
  return import.meta.resolve("tsx");
}

/** The git commit of `dir` (and whether the work tree has changes), or undefined outside git. */
export async function gitRevision(dir: string): Promise<{ commit: string; dirty: boolean } | undefined> {
  try {
    const head = await runProcess("git", ["rev-parse", "HEAD"], { cwd: dir, timeoutMs: 10_000 });
    if (head.code !== 0) return undefined;
    const status = await runProcess("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: dir,
      timeoutMs: 10_000,
    });
    return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
  } catch {
    return undefined;
  }
}

/**
 * Bundles a TypeScript module and its relative imports into one ESM file for
 * Node (packages stay imports), so a Node process can load it without tsx —
 * whose loader costs ~1 s and ~30 MB of RSS, which would be charged to the
 * measured implementation. `import.meta.url` keeps meaning the entry's own
 * URL (peers resolve worker files next to themselves); if a bundled module
 * from another directory uses `import.meta`, the bundle would be wrong and
 * this gives up. Uses esbuild (tsx's own compiler); returns false when it
 * cannot, and the caller loads the TypeScript through tsx.
 */
export async function bundleForNode(entry: string, outfile: string): Promise<boolean> {
  try {
    const esbuild = await import("esbuild");
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      logLevel: "silent",
      metafile: true,
      define: { "import.meta.url": JSON.stringify(paths.toFileUrl(entry)) },
    });
    const dir = paths.dirname(paths.resolve(entry));
    for (const input of Object.keys(result.metafile?.inputs ?? {})) {
      const path = paths.resolve(input);
      if (paths.dirname(path) === dir) continue;
      if (/import\.meta/.test(await fs.readText(path))) return false;
    }
    return true;
  } catch {
    return false;
  }
}
