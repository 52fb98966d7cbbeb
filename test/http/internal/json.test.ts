/** Encoded JSON answers: length, tag, 304, and gzip made once, only for bodies of 1 KiB and more that the client accepts compressed. */
import { gunzipSync } from "node:zlib";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { encodeJson, sendEncoded } from "../../../src/http/internal/json.ts";

describe("sendEncoded", () => {
  it("sends length and tag, 304 for the tag, gzip once for large bodies when accepted", async () => {
    const small = await encodeJson({ ok: true });
    const large = await encodeJson({ items: Array.from({ length: 200 }, (_, i) => ({ i, name: `n${i}` })) });
    const app = new Hono();
    app.get("/small", (c) => sendEncoded(c, small));
    app.get("/large", (c) => sendEncoded(c, large));

    const s = await app.request("/small", { headers: { "Accept-Encoding": "gzip" } });
    expect(s.headers.get("Content-Encoding")).toBeNull();
    expect(s.headers.get("Content-Length")).toBe(String(small.bytes));
    expect(await s.text()).toBe('{"ok":true}');

    const l = await app.request("/large", { headers: { "Accept-Encoding": "br, gzip;q=0.5" } });
    expect(l.headers.get("Content-Encoding")).toBe("gzip");
    expect(l.headers.get("ETag")).toBe(`W/${large.etag}`);
    const zipped = new Uint8Array(await l.arrayBuffer());
    expect(l.headers.get("Content-Length")).toBe(String(zipped.length));
    expect(gunzipSync(zipped).toString()).toBe(large.body);
    const first = large.gzip;
    await app.request("/large", { headers: { "Accept-Encoding": "gzip" } });
    expect(large.gzip).toBe(first);

    for (const refused of [undefined, "gzip;q=0", "identity", "br"]) {
      const r = await app.request("/large", { headers: refused ? { "Accept-Encoding": refused } : {} });
      expect(r.headers.get("Content-Encoding"), refused).toBeNull();
      expect(await r.text()).toBe(large.body);
    }

    for (const tag of [large.etag, `W/${large.etag}`, `"other", ${large.etag}`]) {
      const r = await app.request("/large", { headers: { "If-None-Match": tag } });
      expect(r.status, tag).toBe(304);
      expect(r.headers.get("ETag")).toBe(large.etag);
      expect(await r.text()).toBe("");
    }
  });
});
