/**
 * @module MessagePack decoding of journal payloads, the values exactly as
 * `@msgpack/msgpack`'s `Decoder` (default options) returns them, faster on
 * what journals hold: many small maps whose keys and string values repeat
 * (event kinds, run ids, stage names, a dead letter's reason and file).
 *
 * Why hand-written (measured on this machine, Node 20, the 100 069 payloads
 * of `benchmarks/catch-up.bench.ts`, 38.7 MB, almost all dead letters, warm,
 * load 1–3): `Decoder.decode` took 0.60–0.91 s, most of it in its UTF-8
 * loop (a `push` per character and `String.fromCharCode(...units)` per
 * string under 200 bytes); `msgpackr` (not a dependency) 0.42–0.53 s; this
 * one 0.29–0.41 s. Short ASCII strings are looked up in a small cache by a
 * hash of their bytes and compared char by char (a repeated value, such as a
 * kind, run id, stage, or a dead letter's reason and file, costs no new
 * string); other ASCII strings are made with one `String.fromCharCode.apply`.
 *
 * It decodes one payload recursively. Whatever it does not handle the way
 * the library does (map keys that are not strings, `__proto__`, nesting
 * deeper than it recurses, bytes that are not MessagePack) makes it throw,
 * and the caller decodes that payload with the library instead, so values
 * and errors stay the library's. Extension types (a Date) go to the
 * library's codec.
 */
import { ExtensionCodec } from "@msgpack/msgpack";

class Fallback extends Error {}
const FALLBACK = new Fallback("fallback");

/** Strings up to this many bytes go through the cache. */
const CACHE_MAX = 128;
const SLOTS = 4096;
/** Above this many bytes the library decodes with `TextDecoder`; below with its own loop. */
const TEXT_DECODER_THRESHOLD = 200;
const MAX_DEPTH = 512;
const textDecoder = new TextDecoder();

export class FastDecoder {
  /** The whole buffer the payload is a view of (journal payloads share their read window's). */
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  #pos = 0;
  #end = 0;
  readonly #hashes = new Int32Array(SLOTS);
  /** Cached ASCII strings by slot ("" = empty slot; the empty string is never cached). */
  readonly #strings: string[] = new Array(SLOTS).fill("");

  /** The value of one whole payload; throws when the library must decode it. */
  decode(bytes: Uint8Array): unknown {
    if (bytes.buffer !== this.#bytes.buffer) {
      this.#bytes = new Uint8Array(bytes.buffer);
      this.#view = new DataView(bytes.buffer);
    }
    this.#pos = bytes.byteOffset;
    this.#end = bytes.byteOffset + bytes.byteLength;
    const v = this.#value(0);
    if (this.#pos !== this.#end) throw FALLBACK;
    return v;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#end) throw FALLBACK;
  }

  #value(depth: number): unknown {
    this.#need(1);
    const b = this.#bytes[this.#pos++];
    if (b < 0x80) return b;
    if (b < 0x90) return this.#map(b - 0x80, depth);
    if (b < 0xa0) return this.#array(b - 0x90, depth);
    if (b < 0xc0) return this.#str(b - 0xa0);
    if (b >= 0xe0) return b - 0x100;
    const view = this.#view;
    let p = this.#pos;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        this.#need(4);
        this.#pos = p + 4;
        return view.getFloat32(p);
      case 0xcb:
        this.#need(8);
        this.#pos = p + 8;
        return view.getFloat64(p);
      case 0xcc:
        this.#need(1);
        this.#pos = p + 1;
        return view.getUint8(p);
      case 0xcd:
        this.#need(2);
        this.#pos = p + 2;
        return view.getUint16(p);
      case 0xce:
        this.#need(4);
        this.#pos = p + 4;
        return view.getUint32(p);
      case 0xcf:
        this.#need(8);
        this.#pos = p + 8;
        return view.getUint32(p) * 4294967296 + view.getUint32(p + 4);
      case 0xd0:
        this.#need(1);
        this.#pos = p + 1;
        return view.getInt8(p);
      case 0xd1:
        this.#need(2);
        this.#pos = p + 2;
        return view.getInt16(p);
      case 0xd2:
        this.#need(4);
        this.#pos = p + 4;
        return view.getInt32(p);
      case 0xd3:
        this.#need(8);
        this.#pos = p + 8;
        return view.getInt32(p) * 4294967296 + view.getUint32(p + 4);
      case 0xd9:
        this.#need(1);
        this.#pos = p + 1;
        return this.#str(view.getUint8(p));
      case 0xda:
        this.#need(2);
        this.#pos = p + 2;
        return this.#str(view.getUint16(p));
      case 0xdb:
        this.#need(4);
        this.#pos = p + 4;
        return this.#str(view.getUint32(p));
      case 0xdc:
        this.#need(2);
        this.#pos = p + 2;
        return this.#array(view.getUint16(p), depth);
      case 0xdd:
        this.#need(4);
        this.#pos = p + 4;
        return this.#array(view.getUint32(p), depth);
      case 0xde:
        this.#need(2);
        this.#pos = p + 2;
        return this.#map(view.getUint16(p), depth);
      case 0xdf:
        this.#need(4);
        this.#pos = p + 4;
        return this.#map(view.getUint32(p), depth);
      case 0xc4:
      case 0xc5:
      case 0xc6: {
        const w = b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4;
        this.#need(w);
        const n = w === 1 ? view.getUint8(p) : w === 2 ? view.getUint16(p) : view.getUint32(p);
        p += w;
        this.#pos = p;
        this.#need(n);
        this.#pos = p + n;
        // A view of the input, as the library returns it.
        return this.#bytes.subarray(p, p + n);
      }
      default:
        // Extensions (a Date is the timestamp extension) and unknown bytes: the library's.
        return this.#ext(b);
    }
  }

  #ext(b: number): unknown {
    const view = this.#view;
    let p = this.#pos;
    let size: number;
    if (b >= 0xd4 && b <= 0xd8) size = 1 << (b - 0xd4);
    else if (b === 0xc7 || b === 0xc8 || b === 0xc9) {
      const w = b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4;
      this.#need(w);
      size = w === 1 ? view.getUint8(p) : w === 2 ? view.getUint16(p) : view.getUint32(p);
      p += w;
      this.#pos = p;
    } else throw FALLBACK;
    this.#need(1 + size);
    const type = view.getInt8(p);
    const data = this.#bytes.subarray(p + 1, p + 1 + size);
    this.#pos = p + 1 + size;
    return ExtensionCodec.defaultCodec.decode(data, type, undefined);
  }

  #array(n: number, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) throw FALLBACK;
    const a: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) a[i] = this.#value(depth + 1);
    return a;
  }

  #map(n: number, depth: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) throw FALLBACK;
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.#key();
      o[key] = this.#value(depth + 1);
    }
    return o;
  }

  /** A map key: a string (not `__proto__`); anything else is left to the library. */
  #key(): string {
    this.#need(1);
    const b = this.#bytes[this.#pos];
    let n: number;
    if (b >= 0xa0 && b < 0xc0) {
      n = b - 0xa0;
      this.#pos++;
    } else if (b === 0xd9) {
      this.#need(2);
      n = this.#bytes[this.#pos + 1];
      this.#pos += 2;
    } else throw FALLBACK;
    const key = this.#str(n);
    if (key === "__proto__") throw FALLBACK;
    return key;
  }

  /** A UTF-8 string of `n` bytes at the current position. */
  #str(n: number): string {
    this.#need(n);
    const bytes = this.#bytes;
    const start = this.#pos;
    const end = start + n;
    this.#pos = end;
    if (n === 0) return "";
    if (n > CACHE_MAX)
      return n > TEXT_DECODER_THRESHOLD
        ? textDecoder.decode(bytes.subarray(start, end))
        : decodeJs(bytes, start, end);
    let h = n | 0;
    let high = 0;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      high |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    // Only ASCII strings are cached: a cached one is compared char by char with the bytes.
    if (high >= 0x80) return decodeJs(bytes, start, end);
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const cached = this.#strings[slot];
    if (this.#hashes[slot] === h && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === n) return cached;
    }
    const s = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
    this.#hashes[slot] = h;
    this.#strings[slot] = s;
    return s;
  }
}

/**
 * UTF-8 as the library's own loop decodes it (lone surrogates, which its
 * encoder writes as three bytes, come back as they were); ASCII in one call.
 */
function decodeJs(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  const units: number[] = [];
  let offset = start;
  while (offset < end) {
    const byte1 = bytes[offset++];
    if ((byte1 & 0x80) === 0) units.push(byte1);
    else if ((byte1 & 0xe0) === 0xc0) {
      const byte2 = bytes[offset++] & 0x3f;
      units.push(((byte1 & 0x1f) << 6) | byte2);
    } else if ((byte1 & 0xf0) === 0xe0) {
      const byte2 = bytes[offset++] & 0x3f;
      const byte3 = bytes[offset++] & 0x3f;
      units.push(((byte1 & 0x1f) << 12) | (byte2 << 6) | byte3);
    } else if ((byte1 & 0xf8) === 0xf0) {
      const byte2 = bytes[offset++] & 0x3f;
      const byte3 = bytes[offset++] & 0x3f;
      const byte4 = bytes[offset++] & 0x3f;
      let unit = ((byte1 & 0x07) << 0x12) | (byte2 << 0x0c) | (byte3 << 0x06) | byte4;
      if (unit > 0xffff) {
        unit -= 0x10000;
        units.push(((unit >>> 10) & 0x3ff) | 0xd800);
        unit = 0xdc00 | (unit & 0x3ff);
      }
      units.push(unit);
    } else units.push(byte1);
  }
  let s = "";
  for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode(...units.slice(i, i + 4096));
  return s;
}
