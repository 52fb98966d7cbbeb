/**
 * @module The figures of a window stage, published as one compact
 * `window.progress` event per interval (and a last one when the stage
 * closes): watermark, lag, windows held, late records and the largest
 * event-time skew seen (`sluice metrics` turns it into a suggested
 * out-of-order bound). Nothing is published for an interval where nothing
 * changed; the per-record cost is two counters and one comparison.
 */
import type { StageContext } from "../../pipeline/types.ts";
import type { Watermark } from "./watermark.ts";

export interface WindowStats {
  /** Records too late (dead-lettered) since the last event. */
  late: number;
  /** Records behind the watermark that still joined a held window. */
  lateAccepted: number;
  /** Largest skew (max event time seen − record's time) since the last event. */
  maxSkew: number;
  start(): void;
  /** Publishes now (before the final watermark, so the last event still shows where it was). */
  report(): void;
  stop(): void;
}

export function windowStats(
  ctx: StageContext,
  wm: Watermark,
  open: () => number,
  everyMs: number,
): WindowStats {
  let stopTimer: (() => void) | undefined;
  let last = "";
  const finite = (n: number) => (Number.isFinite(n) ? n : undefined);
  const report = () => {
    const openWindows = open();
    const sig = `${wm.value}|${openWindows}`;
    const quiet = s.late === 0 && s.lateAccepted === 0 && s.maxSkew === 0;
    // After the final watermark (end of input) only late counts are news: the last report came before it.
    if (quiet && (sig === last || wm.value === Number.POSITIVE_INFINITY)) return;
    last = sig;
    ctx.emit({
      kind: "window.progress",
      stage: ctx.stage,
      watermark: finite(wm.value),
      maxEventTime: finite(wm.maxSeen),
      lagMs: Number.isFinite(wm.value) && Number.isFinite(wm.maxSeen) ? wm.maxSeen - wm.value : 0,
      openWindows,
      late: s.late,
      lateAccepted: s.lateAccepted,
      maxSkewMs: s.maxSkew,
      partitions: wm.partitions,
    });
    s.late = 0;
    s.lateAccepted = 0;
    s.maxSkew = 0;
  };
  const s: WindowStats = {
    late: 0,
    lateAccepted: 0,
    maxSkew: 0,
    start() {
      stopTimer = ctx.clock.every(everyMs, report);
    },
    report,
    stop() {
      stopTimer?.();
      stopTimer = undefined;
      report();
    },
  };
  return s;
}
