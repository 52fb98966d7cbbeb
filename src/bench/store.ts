/**
 * @module Where bench results are kept: the metrics store's `bench_results`
 * table (DuckDB, `<home>/metrics.duckdb`), through `MetricsStore`'s
 * `recordBenchResult` and `baselines`. Comparable results share a key —
 * scenario, implementation and row count — a runtime with its version, and
 * a host; the baseline is the median of the last N of them. The bench only
 * needs these three calls, so this small interface is all it sees (tests
 * use an in-memory one).
 */
import type { MachineInfo } from "./internal/host.ts";
import type { Better } from "./stats.ts";

/** What identifies comparable results. */
export interface ResultKey {
  readonly scenario: string;
  readonly implementation: string;
  readonly rows: number;
  readonly runtime: string;
  readonly runtimeVersion: string;
  readonly host: string;
}

export interface StoredBaseline {
  /** Earlier results the medians are taken over (the most of any figure). */
  readonly samples: number;
  /** Median of each figure. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Earlier results of each figure (older results may lack a figure newer ones have). */
  readonly counts?: Readonly<Record<string, number>>;
}

export interface BenchRecord {
  readonly key: ResultKey;
  readonly runId: string;
  readonly ts: number;
  readonly metrics: Readonly<Record<string, { value: number; unit?: string; better: Better }>>;
  readonly tags: Readonly<Record<string, string | number | boolean>>;
}

export interface BenchStore {
  /** Medians of the last `last` comparable results recorded before now; undefined when there are none. */
  baseline(key: ResultKey, last: number): Promise<StoredBaseline | undefined>;
  record(r: BenchRecord): Promise<void>;
  close(): Promise<void>;
  /** Where results go, for the report. */
  readonly location: string;
}

/** The `bench_results` scenario column: one series per scenario, implementation and size. */
export function seriesName(k: Pick<ResultKey, "scenario" | "implementation" | "rows">): string {
  return `${k.scenario}/${k.implementation}/${k.rows}`;
}

/** The runtime column: name and version, so a runtime upgrade starts a new baseline. */
export function runtimeLabel(k: Pick<ResultKey, "runtime" | "runtimeVersion">): string {
  return k.runtimeVersion ? `${k.runtime}@${k.runtimeVersion}` : k.runtime;
}

/** Opens the metrics store of a state directory for bench results. */
export async function openBenchStore(home: string): Promise<BenchStore> {
  const { openMetricsStore } = await import("../metrics/store.ts");
  const store = await openMetricsStore(home);
  return {
    location: store.path,
    async baseline(key, last) {
      const b = await store.baselines({
        scenario: seriesName(key),
        runtime: runtimeLabel(key),
        host: key.host,
        last,
      });
      if (!b) return undefined;
      const metrics: Record<string, number> = {};
      const counts: Record<string, number> = {};
      let samples = 0;
      for (const [name, m] of Object.entries(b.metrics)) {
        if (m.median === null) continue;
        metrics[name] = m.median;
        counts[name] = m.samples;
        samples = Math.max(samples, m.samples);
      }
      return samples > 0 ? { samples, metrics, counts } : undefined;
    },
    async record(r) {
      await store.recordBenchResult({
        scenario: seriesName(r.key),
        runId: r.runId,
        ts: r.ts,
        runtime: runtimeLabel(r.key),
        host: r.key.host,
        metrics: r.metrics,
        tags: r.tags,
      });
    },
    close: () => store.close(),
  };
}

/** Tags recorded with every result: what the figures were measured on. */
export function machineTags(
  machine: MachineInfo,
  git: { commit: string; dirty: boolean } | undefined,
): Record<string, string | number | boolean> {
  return {
    cpus: machine.cpus,
    cpu_model: machine.cpuModel,
    memory_mb: machine.memoryMb,
    load_1m: machine.loadAverage[0] ?? -1,
    os: machine.os,
    ...(git ? { git_commit: git.commit, git_dirty: git.dirty } : {}),
  };
}
