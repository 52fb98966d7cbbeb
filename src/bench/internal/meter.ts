/**
 * @module What the measuring process counts while the work runs: records so
 * far, latency samples, a timeline of records / RSS / CPU, and extra
 * figures. Latencies go into a fixed reservoir (64k samples, replaced at
 * random by a seeded generator beyond that), so every implementation pays
 * the same small, bounded cost for being measured.
 */

import { prng } from "../../testing/generate.ts";
import type { ExtraMetric, LatencySummary, Sample } from "../protocol.ts";
import { percentileSorted } from "../stats.ts";
import { cpuTimeMs, rssBytes } from "./host.ts";

const RESERVOIR = 65_536;
const MAX_TIMELINE = 1_000;

export class Meter {
  rows = 0;
  readonly metrics: Record<string, ExtraMetric> = {};
  readonly timeline: Sample[] = [];
  #samples = new Float64Array(RESERVOIR);
  #seen = 0;
  #random = prng(7);
  #t0 = 0;
  #cpu0 = 0;
  #every = 1;
  #ticks = 0;

  /** Marks the start of the timed work. */
  start(): void {
    this.#t0 = performance.now();
    this.#cpu0 = cpuTimeMs();
  }

  get elapsedMs(): number {
    return performance.now() - this.#t0;
  }

  get cpuMs(): number {
    return cpuTimeMs() - this.#cpu0;
  }

  latency(ms: number): void {
    const i = this.#seen++;
    if (i < RESERVOIR) this.#samples[i] = ms;
    else {
      const j = Math.floor(this.#random() * (i + 1));
      if (j < RESERVOIR) this.#samples[j] = ms;
    }
  }

  /** Takes a timeline sample; beyond 1 000 samples the timeline keeps every other one. */
  sample(): Sample {
    const s: Sample = {
      t: Math.round(this.elapsedMs),
      rows: this.rows,
      rssMb: Math.round((rssBytes() / 2 ** 20) * 10) / 10,
      cpuMs: Math.round(this.cpuMs),
    };
    if (this.#ticks++ % this.#every === 0) {
      this.timeline.push(s);
      if (this.timeline.length >= MAX_TIMELINE) {
        for (let i = 0; i < this.timeline.length / 2; i++) this.timeline[i] = this.timeline[i * 2];
        this.timeline.length = Math.floor(this.timeline.length / 2);
        this.#every *= 2;
      }
    }
    return s;
  }

  latencySummary(): LatencySummary | undefined {
    const n = Math.min(this.#seen, RESERVOIR);
    if (n === 0) return undefined;
    const sorted = Array.from(this.#samples.subarray(0, n)).sort((a, b) => a - b);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      count: this.#seen,
      p50: r(percentileSorted(sorted, 50)),
      p90: r(percentileSorted(sorted, 90)),
      p99: r(percentileSorted(sorted, 99)),
      max: r(sorted[n - 1]),
    };
  }
}
