/**
 * @module Event time for the windowing operators: reading a record's time
 * (a field or a function giving a `Date`, an ISO-8601 string or epoch
 * milliseconds) and writing times and durations into messages users read
 * (dead-letter reasons name the window a late record missed).
 */

/** What an event-time option may give for a record. */
export type EventTimeValue = Date | string | number;

/** How the operator finds a record's event time: a field name or a function. */
export type EventTimeOption<A> = Extract<keyof A, string> | ((record: A) => EventTimeValue);

/** Epoch milliseconds of `v`, or undefined when it is not a readable time. */
export function readEventTime(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof v === "string") {
    // Epoch milliseconds as text (a CSV column without a schema).
    if (/^\s*-?\d+\s*$/.test(v)) return Number(v);
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** A reader for the option: the record's time in epoch ms (undefined when unreadable; may throw). */
export function eventTimeReader<A>(option: EventTimeOption<A>): (record: A) => number | undefined {
  if (typeof option === "function") return (r) => readEventTime(option(r));
  const field = option;
  return (r) => readEventTime((r as Record<string, unknown>)[field]);
}

/** A time for messages: ISO-8601 when it is a plausible date, else the number. */
export function showTime(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return "end of input";
  if (ms === Number.NEGATIVE_INFINITY) return "none yet";
  return Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** A duration for messages: `2m30s`, `1.5s`, `250ms`. */
export function showDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1000}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, n] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${unit}`);
      rest %= n;
    }
  }
  if (rest) parts.push(`${rest}s`);
  return parts.join("");
}
