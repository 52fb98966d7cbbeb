/**
 * @module Child processes: run a command to completion collecting its output, find a binary on
 * the PATH, and this runtime's own executable. `node:child_process` is provided by Node, Bun and
 * Deno alike. Used by `sluice bench` (each measurement runs in its own process).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";

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

/** The executable running this process. */
export const execPath = (): string => process.execPath;

/** `<root>/node_modules/.bin/<name>`, else `<name>` on the PATH, else undefined. */
export function findBinary(name: string, root: string): string | undefined {
  const local = join(root, "node_modules", ".bin", name);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether a path exists (synchronously; for start-up checks, not hot paths). */
export const pathExists = (path: string): boolean => existsSync(path);
