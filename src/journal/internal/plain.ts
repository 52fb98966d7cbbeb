/**
 * @module Events as the journal stores them. MessagePack writes `undefined`
 * as nil, which reads back as `null` and then fails the event schema
 * (`error?: string`), and it cannot encode a `bigint` a user record may hold
 * in a dead letter. So object properties that are `undefined` are left out
 * (the same meaning once read back), bigints become decimal strings,
 * functions and cycles become markers. Everything else (numbers, strings,
 * Dates, byte arrays) passes through unchanged.
 */

/** A copy of `value` MessagePack encodes and decodes to the same meaning. */
export function toJournalValue(value: unknown): unknown {
  return plain(value, new Set());
}

function plain(v: unknown, seen: Set<object>): unknown {
  switch (typeof v) {
    case "bigint":
      return v.toString();
    case "function":
    case "symbol":
      return undefined;
    case "object":
      break;
    default:
      return v;
  }
  if (v === null || v instanceof Date || v instanceof Uint8Array) return v;
  if (seen.has(v)) return "[circular]";
  seen.add(v);
  let out: unknown;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      a[i] = typeof x === "number" || typeof x === "string" ? x : plain(x, seen);
    }
    out = a;
  } else if (v instanceof Error) out = { name: v.name, message: v.message };
  else if (v instanceof Map) out = plain(Object.fromEntries(v), seen);
  else if (v instanceof Set) out = plain([...v], seen);
  else {
    const o: Record<string, unknown> = {};
    for (const k in v as Record<string, unknown>) {
      const x = plain((v as Record<string, unknown>)[k], seen);
      if (x !== undefined) o[k] = x;
    }
    out = o;
  }
  seen.delete(v);
  return out;
}

/**
 * An event read back, ready for the event schema: the two `unknown` fields
 * of a checkpoint that may legitimately be `undefined` (no source offset yet,
 * a sink without a token) were left out when it was written; put them back.
 */
export function fromJournalValue(value: unknown): unknown {
  if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "checkpoint") {
    return { sourceOffset: undefined, sinkToken: undefined, ...(value as object) };
  }
  return value;
}
