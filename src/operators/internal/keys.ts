/**
 * @module Keys in snapshots. State snapshots travel as msgpack, which has no
 * bigint by default and turns `undefined` into `null`; a key is encoded so
 * that it restores to the same Map key (bigints as `{ bigint }`). Keys are
 * read through `normalKey`, so `undefined` is `null` before and after a
 * resume alike (outputs stay byte-identical).
 */
import type { Key } from "../dedupe.ts";

export type EncodedKey = string | number | boolean | null | { readonly bigint: string };

/** `undefined` becomes `null` (a key function that returns nothing groups under null). */
export function normalKey(k: Key): Key {
  return k === undefined ? null : k;
}

export function encodeKey(k: Key): EncodedKey {
  if (typeof k === "bigint") return { bigint: k.toString() };
  return k === undefined ? null : k;
}

export function decodeKey(k: EncodedKey): Key {
  return typeof k === "object" && k !== null ? BigInt(k.bigint) : k;
}
