/**
 * @module The messages between `sluice bench` and the process that takes one
 * measurement: the spec the runner writes to a file, and the lines the child
 * prints on stdout — a start mark when the timed work begins, progress
 * samples while it runs, and one report at the end. Each line starts with a
 * marker, so anything else a library prints is ignored.
 */
import type { Outcome } from "./scenario.ts";

/** Where the child finds the scenario: a built-in by name, or an export of a user's file. */
export type ScenarioSource =
  | { readonly kind: "builtin"; readonly name: string }
  | { readonly kind: "file"; readonly file: string; readonly name: string };

export interface ChildSpec {
  readonly source: ScenarioSource;
  /** `"sluice"` or a peer's name. */
  readonly implementation: string;
  /** What the scenario's generator returned. */
  readonly data: unknown;
  readonly rows: number;
  readonly outDir: string;
  readonly home: string;
  /** Progress sample period (ms). */
  readonly sampleMs: number;
  /** A peer given as a module: imported directly, without the scenario (or the engine). */
  readonly peer?: { readonly href: string; readonly exportName: string };
}

/** One point of the throughput/memory timeline: ms since the start mark. */
export interface Sample {
  readonly t: number;
  readonly rows: number;
  readonly rssMb: number;
  readonly cpuMs: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface ExtraMetric {
  readonly value: number;
  readonly unit?: string;
  readonly better?: "higher" | "lower";
}

export interface ChildReport {
  readonly ok: boolean;
  readonly error?: string;
  readonly runtime: string;
  readonly runtimeVersion: string;
  /** Wall time of the timed work (after modules are loaded and data is opened), ms. */
  readonly wallMs: number;
  /** CPU time of the process during the timed work, ms (all threads). */
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly outcome?: Outcome;
  readonly latency?: LatencySummary;
  readonly timeline: readonly Sample[];
  readonly metrics: Readonly<Record<string, ExtraMetric>>;
}

const MARK = "\u0001sluice-bench ";

export type ChildLine =
  | { readonly type: "start" }
  | { readonly type: "sample"; readonly sample: Sample }
  | { readonly type: "report"; readonly report: ChildReport };

export function encodeLine(line: ChildLine): string {
  return `${MARK}${JSON.stringify(line)}\n`;
}

/** The message on a stdout line, or undefined for any other output. */
export function decodeLine(text: string): ChildLine | undefined {
  const i = text.indexOf(MARK);
  if (i === -1) return undefined;
  try {
    return JSON.parse(text.slice(i + MARK.length)) as ChildLine;
  } catch {
    return undefined;
  }
}
