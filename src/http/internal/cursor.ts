/**
 * @module Opaque page cursors: a JSON array of key values, base64url-encoded.
 * Clients pass back what `next` gave them; anything that does not decode to
 * the expected shape is a 400, never an exception from deeper down.
 */
import { BadRequestError } from "../errors.ts";

type Key = string | number;

export function encodeCursor(key: readonly Key[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes a cursor whose key has the given element types (`"s"` string, `"n"` number). */
export function decodeCursor<T extends readonly Key[]>(cursor: string, shape: string): T {
  const bad = () => new BadRequestError("query.cursor", "not a cursor this server issued");
  let value: unknown;
  try {
    const bin = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    value = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== shape.length) throw bad();
  for (let i = 0; i < shape.length; i++) {
    const v = value[i];
    if (
      shape[i] === "n"
        ? typeof v !== "number" || !Number.isFinite(v)
        : typeof v !== "string" || v.length > 256
    )
      throw bad();
  }
  return value as unknown as T;
}
