/**
 * @module Process-level capabilities: arguments, environment, exit, signals,
 * terminal output, resource usage and loading user modules. `node:process` is
 * provided by Node, Bun and Deno; the only real difference (Node 20 cannot
 * import TypeScript by itself) is handled in `importModule`.
 */
import { cpus, hostname, loadavg, totalmem } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs as nodeParseArgs } from "node:util";
import { runtimeName } from "./detect.ts";

export const parseArgs = nodeParseArgs;

export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

function output(stream: NodeJS.WriteStream, onClosed: () => void): Output {
  // The reader went away (`sluice events RUN | head`): not an error to report.
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") onClosed();
    else throw e;
  });
  return {
    write: (text) => {
      stream.write(text);
    },
    get isTTY() {
      return Boolean(stream.isTTY);
    },
    get columns() {
      return stream.columns ?? 100;
    },
  };
}

/** Output to a closed stdout pipe ends the command quietly, as Unix tools do. */
export const stdout: Output = output(process.stdout, () => process.exit(0));
/** A closed stderr (progress line, warnings) is ignored: a run must not stop for it. */
export const stderr: Output = output(process.stderr, () => {});

export const argv = (): string[] => process.argv.slice(2);
export const env = (name: string): string | undefined => process.env[name];
export const cwd = (): string => process.cwd();
/** Changes the working directory (`sluice resume` runs where the run started). */
export const chdir = (dir: string): void => process.chdir(dir);
export const pid = (): number => process.pid;
export const host = (): string => hostname();
export const cpuCount = (): number => cpus().length;
export const loadAverage = (): number[] => loadavg();
export const totalMemory = (): number => totalmem();

export function exit(code: number): never {
  process.exit(code);
}

/** Sets the exit code without exiting (lets pending writes finish). */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

export type SignalName = "SIGINT" | "SIGTERM";

/** Registers a signal handler; returns a function that removes it. */
export function onSignal(signal: SignalName, handler: () => void): () => void {
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}

export interface ResourceSample {
  rssBytes: number;
  heapUsedBytes: number;
  /** CPU time used by this process since the previous sample, in ms (user + system). */
  cpuMs: number;
}

let lastCpu = process.cpuUsage();

export function sampleResources(): ResourceSample {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  return { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Peak resident set size in bytes, where the runtime reports it. */
export function peakRss(): number {
  const usage = process.resourceUsage?.();
  return usage ? usage.maxRSS * 1024 : process.memoryUsage().rss;
}

/** Event-loop delay monitor (p99 in ms); a no-op where unsupported. */
export function eventLoopDelay(): { p99Ms(): number; reset(): void; stop(): void } {
  try {
    const h = monitorEventLoopDelay({ resolution: 20 });
    h.enable();
    return {
      p99Ms: () => (Number.isFinite(h.percentile(99)) ? h.percentile(99) / 1e6 : 0),
      reset: () => h.reset(),
      stop: () => h.disable(),
    };
  } catch {
    return { p99Ms: () => 0, reset: () => {}, stop: () => {} };
  }
}

let tsxRegistered = false;

/**
 * Imports a user module by path or URL. Bun and Deno run TypeScript natively;
 * on Node a `.ts` file is bundled with esbuild and imported (`ts-loader.ts`),
 * or, where that cannot be written, the tsx loader is registered once. Either
 * way the module graph stays shared with the engine (one `sluice` instance).
 */
export async function importModule(specifier: string): Promise<Record<string, unknown>> {
  if (
    runtimeName === "node" &&
    /\.[cm]?tsx?$/.test(specifier) &&
    specifier.startsWith("file:") &&
    !tsxRegistered
  ) {
    const { importBundled } = await import("./ts-loader.ts");
    const mod = await importBundled(fileURLToPath(specifier));
    if (mod) return mod;
  }
  if (runtimeName === "node" && /\.[cm]?tsx?$/.test(specifier) && !tsxRegistered) {
    const api = (await import("tsx/esm/api")) as { register: () => unknown };
    api.register();
    tsxRegistered = true;
  }
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    throw withBuildPositions(e);
  }
}

interface BuildPosition {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * Bun reports a module it cannot build as a `BuildMessage` (or an
 * `AggregateError` of them, "2 errors building …") whose message says not
 * where; node and deno put the place in theirs. Said here the same way:
 * `file:line:column: message`, each error once.
 */
function withBuildPositions(e: unknown): unknown {
  const items: unknown[] = e instanceof AggregateError ? e.errors : [e];
  const said = items.flatMap((x) => {
    const p = (x as { position?: BuildPosition } | null)?.position;
    const message = (x as { message?: unknown } | null)?.message;
    return p && typeof p.line === "number" && typeof message === "string"
      ? [`${p.file ?? "?"}:${p.line}:${p.column ?? 0}: ${message}`]
      : [];
  });
  return said.length === 0 ? e : new Error(said.join("; "), { cause: e });
}
