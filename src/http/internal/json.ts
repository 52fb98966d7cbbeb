/**
 * @module JSON responses with a strong ETag (SHA-256 of the body, first 16
 * bytes) and `304 Not Modified` for a matching `If-None-Match`. Compression
 * is the compress middleware's job, after this.
 */
import type { Context } from "hono";

const encoder = new TextEncoder();

export async function etagOf(body: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += d[i].toString(16).padStart(2, "0");
  return `"${hex}"`;
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/** Sends `value` as JSON with an ETag, or 304 when the client has it already. */
export async function sendJson(c: Context, value: unknown, status: 200 | 201 = 200): Promise<Response> {
  const body = JSON.stringify(value);
  return sendJsonText(c, body, await etagOf(body), status);
}

/** A JSON body serialised (and tagged) beforehand, e.g. a cached answer sent many times. */
export function sendJsonText(c: Context, body: string, etag: string, status: 200 | 201 = 200): Response {
  c.header("ETag", etag);
  c.header("Cache-Control", "no-cache");
  if (matches(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
  c.header("Content-Type", "application/json; charset=utf-8");
  return c.body(body, status);
}
