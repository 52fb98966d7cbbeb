/**
 * @module The live progress line: a bus subscriber (DESIGN §2). On a TTY it
 * redraws one line in place from `run.progress` events (every 100 ms); when
 * not a TTY it prints a plain line every 5 s with no escape codes. A `warning`
 * event is printed on its own line as it comes.
 */
import type { EventBus } from "../events/bus.ts";
import type { EventOf } from "../events/schema.ts";
import type { RunPlugin } from "../pipeline/plugin.ts";
import type { Output } from "../runtime/process.ts";
import { bytes, compact, duration, int } from "./format.ts";

export interface ProgressLine {
  /** Clears the line (TTY) before the summary is printed. */
  stop(): void;
}

export function progressLine(bus: EventBus, out: Output, name: string): ProgressLine {
  let lastPlain = 0;
  let drawn = false;
  let lastRows = 0;
  let lastAt = 0;
  let rate = 0;
  const sub = bus.subscribe(
    (e) => {
      if (e.kind === "warning") {
        out.write(`${drawn ? "\r\x1b[2K" : ""}sluice: warning: ${e.message}\n`);
        return;
      }
      const p = e as EventOf<"run.progress">;
      const dt = p.elapsedMs - lastAt;
      if (dt >= 250 || lastAt === 0) {
        const instant = dt > 0 ? ((p.rowsIn - lastRows) / dt) * 1000 : 0;
        rate = rate === 0 ? instant : rate * 0.6 + instant * 0.4;
        lastRows = p.rowsIn;
        lastAt = p.elapsedMs;
      }
      const line = render(name, p, rate);
      if (out.isTTY) {
        out.write(`\r\x1b[2K${line.slice(0, Math.max(20, out.columns - 1))}`);
        drawn = true;
      } else if (p.elapsedMs - lastPlain >= 5000) {
        lastPlain = p.elapsedMs;
        out.write(`${line}\n`);
      }
    },
    ["run.progress", "warning"],
  );
  return {
    stop() {
      sub.unsubscribe();
      if (drawn) out.write("\r\x1b[2K");
    },
  };
}

/** The progress line as a run plugin: drawn while the run goes, cleared when it ends. */
export function progressPlugin(out: Output): RunPlugin {
  let line: ProgressLine | undefined;
  return {
    name: "progress",
    start(run) {
      line = progressLine(run.bus, out, run.pipeline.name);
    },
    close() {
      line?.stop();
      return undefined;
    },
  };
}

export function render(name: string, p: EventOf<"run.progress">, rowsPerSec: number): string {
  const parts = [`${name}`, `${int(p.rowsIn)} rows`, `${compact(rowsPerSec)} rows/s`];
  if (p.totalBytes) {
    const frac = Math.min(1, p.bytes / p.totalBytes);
    parts.push(`${bytes(p.bytes)} / ${bytes(p.totalBytes)} (${(frac * 100).toFixed(1)}%)`);
    const bps = p.elapsedMs > 0 ? p.bytes / p.elapsedMs : 0;
    if (bps > 0 && frac < 1) parts.push(`ETA ${duration((p.totalBytes - p.bytes) / bps)}`);
  } else if (p.bytes) parts.push(bytes(p.bytes));
  if (p.deadLettered) parts.push(`${int(p.deadLettered)} dead-lettered`);
  parts.push(duration(p.elapsedMs));
  return parts.join(" · ");
}
