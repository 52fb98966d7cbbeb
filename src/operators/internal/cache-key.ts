/**
 * @module Cache keys. The default key of a record is a stable serialisation
 * (object keys sorted, so `{a, b}` and `{b, a}` share an entry; type-tagged,
 * so `1` and `"1"` do not). Keys longer than 200 characters are replaced by a
 * 106-bit hash plus the length: LMDB keys are limited to ~2 KB and long keys
 * waste L1 memory; at 10^9 distinct keys the chance of any collision is about
 * 10^-14.
 */

const MAX_KEY = 200;

/** The stable default key of a record. Throws on cycles (such a record has no stable form). */
export function defaultKey(record: unknown): string {
  switch (typeof record) {
    case "string":
      return normalizeKey(`s:${record}`) as string;
    case "number":
      return `n:${record}`;
    case "boolean":
      return `b:${record}`;
    case "bigint":
      return `i:${record}`;
    case "undefined":
      return "u:";
    default:
      return normalizeKey(`j:${stable(record, 0, [])}`) as string;
  }
}

/** A cache key: numbers stay numbers (no string built on the hit path). */
export type CacheKey = string | number;

/** Shortens a user key when it is a long string (see module note). */
export function normalizeKey(key: CacheKey): CacheKey {
  if (typeof key !== "string" || key.length <= MAX_KEY) return key;
  return `#${hash53(key, 1)}.${hash53(key, 2)}.${key.length}`;
}

function stable(v: unknown, depth: number, seen: unknown[]): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
    case "boolean":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "undefined":
      return "undefined";
    case "function":
    case "symbol":
      return typeof v;
  }
  if (v instanceof Date) return `D${v.getTime()}`;
  if (v instanceof Uint8Array) return `U${Array.from(v).join(",")}`;
  if (seen.includes(v))
    throw new TypeError("cache: the record contains a cycle; give cache() a key function");
  seen.push(v);
  let s: string;
  if (Array.isArray(v)) s = `[${v.map((x) => stable(x, depth + 1, seen)).join(",")}]`;
  else if (v instanceof Map)
    s = `M{${[...v.entries()]
      .map(([k, x]) => `${stable(k, depth + 1, seen)}:${stable(x, depth + 1, seen)}`)
      .sort()
      .join(",")}}`;
  else if (v instanceof Set)
    s = `S[${[...v]
      .map((x) => stable(x, depth + 1, seen))
      .sort()
      .join(",")}]`;
  else {
    const o = v as Record<string, unknown>;
    s = `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(o[k], depth + 1, seen)}`)
      .join(",")}}`;
  }
  seen.pop();
  return s;
}

/** cyrb53: a fast 53-bit string hash; two seeds give two independent halves. */
function hash53(s: string, seed: number): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/**
 * A rough size in bytes of a value in memory (for the L1 byte bound): strings
 * count two bytes a character, objects a header plus their fields.
 */
export function sizeOf(v: unknown, depth = 0): number {
  if (v === null || v === undefined) return 8;
  switch (typeof v) {
    case "string":
      return 16 + 2 * v.length;
    case "number":
    case "boolean":
      return 8;
    case "bigint":
      return 24;
    case "object":
      break;
    default:
      return 16;
  }
  if (depth > 8) return 64;
  if (v instanceof Date) return 32;
  if (v instanceof Uint8Array) return 64 + v.byteLength;
  if (Array.isArray(v)) {
    let n = 32 + 8 * v.length;
    for (const x of v) n += typeof x === "object" || typeof x === "string" ? sizeOf(x, depth + 1) : 0;
    return n;
  }
  let n = 32;
  for (const k in v as Record<string, unknown>) {
    const x = (v as Record<string, unknown>)[k];
    n += 8 + (typeof x === "object" || typeof x === "string" ? sizeOf(x, depth + 1) : 8);
  }
  return n;
}
