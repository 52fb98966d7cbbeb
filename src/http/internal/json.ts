/**
 * @module JSON responses with a strong ETag (SHA-256 of the body, first 16
 * bytes), `304 Not Modified` for a matching `If-None-Match`, a
 * `Content-Length`, and gzip for bodies of 1 KiB and more when the client
 * accepts it. An answer is encoded once (`encodeJson`) and can be sent many
 * times (`sendEncoded`): a cached answer polled by many clients is
 * serialised, hashed and compressed once, not per request. The compress
 * middleware leaves these responses alone (they carry their encoding, or are
 * under its threshold).
 */
import type { Context } from "hono";

const encoder = new TextEncoder();
/** Bodies smaller than this go uncompressed (the compress middleware's default threshold). */
const GZIP_MIN_BYTES = 1024;

/** A JSON body ready to send: its text, byte length, tag, and (made on first need) its gzip bytes. */
export interface Encoded {
  readonly body: string;
  readonly bytes: number;
  readonly etag: string;
  gzip?: Promise<Uint8Array>;
}

export async function etagOf(body: string | Uint8Array): Promise<string> {
  const data = typeof body === "string" ? encoder.encode(body) : body;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += d[i].toString(16).padStart(2, "0");
  return `"${hex}"`;
}

/** Serialises `value` and tags it. */
export async function encodeJson(value: unknown): Promise<Encoded> {
  const body = JSON.stringify(value);
  const data = encoder.encode(body);
  return { body, bytes: data.length, etag: await etagOf(data) };
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/** Whether the client takes gzip (`Accept-Encoding: gzip`, not refused with `q=0`). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (name !== "gzip" && name !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

async function gzip(body: string): Promise<Uint8Array> {
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Sends an encoded answer, or 304 when the client has it already. */
export async function sendEncoded(
  c: Context,
  enc: Encoded,
  status: 200 | 201 | 202 = 200,
): Promise<Response> {
  c.header("Cache-Control", "no-cache");
  if (matches(c.req.header("If-None-Match"), enc.etag)) {
    c.header("ETag", enc.etag);
    return c.body(null, 304);
  }
  c.header("Content-Type", "application/json; charset=utf-8");
  if (enc.bytes >= GZIP_MIN_BYTES && acceptsGzip(c.req.header("Accept-Encoding"))) {
    enc.gzip ??= gzip(enc.body);
    const bytes = await enc.gzip;
    // A different representation, so a weak tag (as the compress middleware marks what it compresses).
    c.header("ETag", `W/${enc.etag}`);
    c.header("Content-Encoding", "gzip");
    c.header("Content-Length", String(bytes.length));
    return c.body(bytes as Uint8Array<ArrayBuffer>, status);
  }
  c.header("ETag", enc.etag);
  c.header("Content-Length", String(enc.bytes));
  return c.body(enc.body, status);
}

/** Sends `value` as JSON with an ETag, or 304 when the client has it already. */
export async function sendJson(c: Context, value: unknown, status: 200 | 201 | 202 = 200): Promise<Response> {
  return sendEncoded(c, await encodeJson(value), status);
}
