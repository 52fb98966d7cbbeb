/**
 * @module What `sluice bench` needs from the operating system, kept here so
 * `src/bench/` stays on Web APIs (STYLE rule 4): starting a child process on
 * a given runtime (each measurement runs in its own process, so peak RSS
 * belongs to one implementation), this process's CPU time and memory, the
 * machine's description, and the git revision of the code under test.
 * `node:child_process` is provided by Node, Bun and Deno alike.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { type RuntimeName, runtimeName } from "./detect.ts";

export interface ProcessResult {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  /** The signal that ended the process (`SIGKILL`), if any. */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit (ms). */
  readonly wallMs: number;
  /** True when `timeoutMs` passed and the process was killed. */
  readonly timedOut: boolean;
}

export interface ProcessOptions {
  readonly cwd?: string;
  /** Added to (not replacing) this process's environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the process (SIGKILL) after this long. */
  readonly timeoutMs?: number;
  /** Called with each complete stdout line as it arrives (the line is also kept in `stdout`). */
  readonly onLine?: (line: string, atMs: number) => void;
  /** Aborting kills the process. */
  readonly signal?: AbortSignal;
}

/** Runs a command to completion, collecting its output. Never rejects for a non-zero exit. */
export function runProcess(
  cmd: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let pending = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      stdout += text;
      if (!options.onLine) return;
      pending += text;
      let nl = pending.indexOf("\n");
      while (nl !== -1) {
        options.onLine(pending.slice(0, nl), performance.now() - t0);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    });
    child.stderr.on("data", (text: string) => {
      // Keep the tail only: a noisy child must not grow the parent without bound.
      stderr = (stderr + text).slice(-64 * 1024);
    });
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs);
    options.signal?.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0, timedOut });
    });
  });
}

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
  const bin = runtime === runtimeName ? process.execPath : findBinary(runtime, options.root);
  if (!bin) {
    return `${runtime} is not installed (not in ${join(options.root, "node_modules", ".bin")} nor on the PATH)`;
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
      const config = join(options.root, "deno.json");
      if (existsSync(config)) args.push(`--config=${config}`);
      if (cap) args.push(`--v8-flags=--max-old-space-size=${cap}`);
      return { runtime, cmd: bin, args: [...args, script] };
    }
  }
}

function findBinary(runtime: RuntimeName, root: string): string | undefined {
  const local = join(root, "node_modules", ".bin", runtime);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, runtime))) return join(dir, runtime);
  }
  return undefined;
}

/** tsx's ESM loader as an absolute URL, so `--import` works from any working directory. */
function tsxLoaderUrl(): string {
  return import.meta.resolve("tsx");
}

/** CPU time (user + system) this process has used so far, in ms. */
export function cpuTimeMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Resident set size now, in bytes. */
export function rssBytes(): number {
  return process.memoryUsage().rss;
}

/** The highest resident set size this process has reached, in bytes. */
export function peakRssBytes(): number {
  const usage = process.resourceUsage?.();
  return usage ? Math.max(usage.maxRSS * 1024, rssBytes()) : rssBytes();
}

/** What the results were measured on. */
export interface MachineInfo {
  readonly host: string;
  readonly os: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMb: number;
  /** 1, 5 and 15 minute load averages. */
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "unknown",
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The 1-minute load average. */
export function loadAverage1m(): number {
  return os.loadavg()[0];
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
      define: { "import.meta.url": JSON.stringify(pathToFileURL(entry).href) },
    });
    const dir = dirname(resolve(entry));
    for (const input of Object.keys(result.metafile?.inputs ?? {})) {
      const path = resolve(input);
      if (dirname(path) === dir) continue;
      if (/import\.meta/.test(await readFile(path, "utf8"))) return false;
    }
    return true;
  } catch {
    return false;
  }
}
