/**
 * @module Key encoding, hashing and a Bloom filter for the keyed state backend (`key-set.ts`).
 *
 * Keys are the values `dedupe`/`keyed` functions return (string, number, boolean, bigint, null,
 * undefined); on disk they are strings with a one-letter type prefix, so `1` and `"1"` stay
 * distinct as they are in a `Set`. The hash is FNV-1a over the encoded string's UTF-16 units with
 * a second, differently seeded lane in the same loop (double hashing: probe i is h1 + i·h2).
 *
 * Why hand-written: the filter sits in the per-record path of a spilled state (one `has` per record
 * once keys are on disk), so it must be a few array reads with no allocation; the npm Bloom
 * packages hash with a string digest per call (allocating), which measured 5–10× slower here.
 */

export type StateKey = string | number | boolean | bigint | null | undefined;

/** The key as stored on disk. */
export function encodeKey(k: StateKey): string {
  switch (typeof k) {
    case "string":
      return `s${k}`;
    case "number":
      return `n${k}`;
    case "boolean":
      return k ? "b1" : "b0";
    case "bigint":
      return `i${k}`;
    case "undefined":
      return "u";
    default:
      if (k === null) return "z";
      throw new TypeError(
        `a state key must be a string, number, boolean, bigint, null or undefined, got ${typeof k}`,
      );
  }
}

/** The key an encoded string stands for. */
export function decodeKey(s: string): StateKey {
  const rest = s.slice(1);
  switch (s.charCodeAt(0)) {
    case 0x73: // s
      return rest;
    case 0x6e: // n
      return Number(rest);
    case 0x62: // b
      return rest === "1";
    case 0x69: // i
      return BigInt(rest);
    case 0x7a: // z
      return null;
    default:
      return undefined;
  }
}

/** Second lane of the last `hashKey` call (the first is its return value). */
export let hash2 = 0;

/** Two 32-bit hashes of an encoded key: returns the first, sets `hash2`. */
export function hashKey(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  b ^= b >>> 15;
  hash2 = (b | 1) >>> 0; // odd, so the probes cycle through every bit
  return a >>> 0;
}

/** A Bloom filter of `bits` bits (a multiple of 32) probed `probes` times per key. */
export class Bloom {
  readonly words: Uint32Array;
  readonly bits: number;

  constructor(
    bits: number,
    readonly probes = 7,
    words?: Uint32Array,
  ) {
    this.bits = Math.max(32, Math.ceil(bits / 32) * 32);
    this.words = words ?? new Uint32Array(this.bits / 32);
  }

  /** A filter sized for `keys` keys at about 1% false positives (~9.6 bits a key). */
  static forKeys(keys: number): Bloom {
    return new Bloom(Math.ceil(Math.max(1024, keys) * 9.6));
  }

  add(h1: number, h2: number): void {
    const m = this.bits;
    const w = this.words;
    let h = h1 % m;
    const step = h2 % m;
    for (let i = 0; i < this.probes; i++) {
      w[h >>> 5] |= 1 << (h & 31);
      h += step;
      if (h >= m) h -= m;
    }
  }

  has(h1: number, h2: number): boolean {
    const m = this.bits;
    const w = this.words;
    let h = h1 % m;
    const step = h2 % m;
    for (let i = 0; i < this.probes; i++) {
      if ((w[h >>> 5] & (1 << (h & 31))) === 0) return false;
      h += step;
      if (h >= m) h -= m;
    }
    return true;
  }
}
