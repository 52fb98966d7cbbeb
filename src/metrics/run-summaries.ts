/**
 * @module The per-pipeline summary (DESIGN §4): what a run needs from past
 * runs — the throughput baseline the alert rules compare with — without the
 * metrics store. Each run appends one line of figures to
 * `<home>/<pipeline>/summary.json` at its end (the last `KEEP` runs are
 * kept); the next run reads it at start. Written by replacing the file
 * (write to a temporary name, then rename), so a reader never sees half of it;
 * two runs ending at the same instant may drop one line, which only makes
 * the baseline's median over one run fewer.
 */
import type { RunPlugin } from "../pipeline/plugin.ts";
import { definitionHash } from "../pipeline/run.ts";
import { runtimeName } from "../runtime/detect.ts";
import { fs, paths } from "../runtime/fs.ts";
import { host } from "../runtime/process.ts";
import { reasonKey } from "./new-reasons.ts";

export const SUMMARY_FILE = "summary.json";
/** Dead-letter reasons kept per run in the summary. */
const MAX_REASONS = 100;
/** Runs kept in a pipeline's summary. */
export const KEEP = 50;

export interface RunFigures {
  readonly runId: string;
  readonly status: "completed" | "failed" | "interrupted";
  /** ms since epoch. */
  readonly endedAt: number;
  readonly runtime: string;
  readonly host: string;
  readonly definitionHash: string;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly deadLettered: number;
  readonly durationMs: number;
  readonly rowsPerS: number;
  readonly peakRssBytes: number | null;
  /** The run's dead-letter reasons (`stage|normalised reason`, at most 100): the new-reason alert's history. */
  readonly deadLetterReasons?: readonly string[];
}

export interface BaselineQuery {
  readonly runtime: string;
  readonly host: string;
  readonly definitionHash: string;
  readonly excludeRunId?: string;
  /** Comparable runs the median is taken over (default 10, as the store's baselines). */
  readonly last?: number;
}

/** The figures of a pipeline's recent runs, oldest first (none when it has no summary yet). */
export async function readRunFigures(home: string, pipeline: string): Promise<RunFigures[]> {
  const text = await fs.readText(paths.join(home, pipeline, SUMMARY_FILE)).catch(() => undefined);
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as { runs?: unknown };
    return Array.isArray(parsed.runs) ? (parsed.runs as RunFigures[]) : [];
  } catch {
    return []; // a damaged summary only costs the baseline; the journals still hold every run
  }
}

/**
 * The dead-letter reasons of the pipeline's earlier runs (`stage|normalised reason`), or undefined
 * when it has no earlier run recorded (nothing to compare with).
 */
export function knownReasons(runs: readonly RunFigures[], excludeRunId?: string): Set<string> | undefined {
  const earlier = runs.filter((r) => r.runId !== excludeRunId);
  if (earlier.length === 0) return undefined;
  return new Set(earlier.flatMap((r) => r.deadLetterReasons ?? []));
}

/** Median rows/s of the last comparable completed runs, as the store's `baselines()` computes it. */
export function baselineRowsPerS(runs: readonly RunFigures[], q: BaselineQuery): number | undefined {
  const values = runs
    .filter(
      (r) =>
        r.status === "completed" &&
        r.runtime === q.runtime &&
        r.host === q.host &&
        r.definitionHash === q.definitionHash &&
        r.runId !== q.excludeRunId &&
        Number.isFinite(r.rowsPerS),
    )
    .slice(-(q.last ?? 10))
    .map((r) => r.rowsPerS)
    .sort((a, b) => a - b);
  if (values.length === 0) return undefined;
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

async function append(home: string, pipeline: string, figures: RunFigures): Promise<void> {
  const runs = (await readRunFigures(home, pipeline)).filter((r) => r.runId !== figures.runId);
  runs.push(figures);
  const file = paths.join(home, pipeline, SUMMARY_FILE);
  const tmp = `${file}.${figures.runId}.tmp`;
  try {
    await fs.writeText(tmp, `${JSON.stringify({ runs: runs.slice(-KEEP) })}\n`, 0o600);
    await fs.rename(tmp, file);
  } catch (e) {
    // A full disk leaves no half-written temporary file behind.
    await fs.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Records each run's figures in its pipeline's summary at the run's end
 * (`onError` hears why when that fails; the run's outcome does not change).
 *
 * @example
 * ```ts
 * await runJournaled(p, { plugins: [runSummaries()] });
 * ```
 */
export function runSummaries(options: { readonly onError?: (e: unknown) => void } = {}): RunPlugin {
  let peakRss: number | null = null;
  let now = () => Date.now();
  let sub: { unsubscribe(): void } | undefined;
  let home = "";
  let hash = "";
  const reasons = new Set<string>();
  return {
    name: "run-summaries",
    start(run) {
      home = run.home;
      now = () => run.clock.now();
      hash = definitionHash(run.pipeline);
      sub = run.bus.subscribe(
        (e) => {
          if (e.kind === "resource.sample") peakRss = Math.max(peakRss ?? 0, e.rssBytes);
          else if (e.kind === "dead.letter" && reasons.size < MAX_REASONS)
            reasons.add(reasonKey(e.stage, e.reason));
        },
        ["resource.sample", "dead.letter"],
      );
    },
    async close(s) {
      sub?.unsubscribe();
      if (!home) return s; // the run never started
      const figures: RunFigures = {
        runId: s.runId,
        status: s.status,
        endedAt: now(),
        runtime: runtimeName,
        host: host(),
        definitionHash: hash,
        rowsIn: s.rowsIn,
        rowsOut: s.rowsOut,
        deadLettered: s.deadLettered,
        durationMs: s.durationMs,
        rowsPerS: s.rowsPerSecond,
        peakRssBytes: peakRss,
        deadLetterReasons: [...reasons],
      };
      // The summary only feeds the next runs' baselines: failing to write it does not fail this run.
      await append(home, s.pipeline, figures).catch((e: unknown) => options.onError?.(e));
      return s;
    },
  };
}
