/**
 * @module The message of an alert: the rule, where, its value and the threshold crossed, in the
 * unit the rule measures (percent, MiB/min, ms, a count), or the new dead-letter reason.
 */
import { MiB, RULES } from "./alert-config.ts";
import type { RuleState } from "./alerts.ts";

/** A fraction as a percentage with enough digits for small thresholds (0.01%, not 0.0%). */
function percent(x: number): string {
  const p = x * 100;
  if (p === 0 || !Number.isFinite(p)) return `${p}%`;
  return `${Math.abs(p) >= 1 ? p.toFixed(1) : Number(p.toPrecision(2))}%`;
}

export function describe(s: RuleState, severity: string, threshold: number): string {
  const where = s.stage ? ` of ${s.stage}` : "";
  if (s.rule === "newDeadLetterReason")
    return `new dead-letter reason at ${s.stage}: ${s.detail} — ${s.value} letter(s), none in earlier runs (${severity} at ${threshold})`;
  const fmt = (x: number): string => {
    switch (s.rule) {
      case "throughputDrop":
      case "errorRate":
      case "deadLetterRate":
        return percent(x);
      case "memoryGrowthBytesPerMin":
        return `${(x / MiB).toFixed(1)} MiB/min`;
      case "queueDepth":
        return `${Math.round(x)}`;
      default:
        return `${x.toFixed(x < 10 ? 2 : 0)} ms`;
    }
  };
  return `${RULES[s.rule]}${where} is ${fmt(s.value)} (${severity} at ${fmt(threshold)})`;
}
