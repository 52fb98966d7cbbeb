/**
 * The attack suite (issue 16): a real server (`attack-server.ts`) on
 * 127.0.0.1, port picked by the OS, on node, bun and deno, attacked with raw
 * HTTP: injection into every parameter of every operation in its own
 * `/openapi.json`, traversal, DNS rebinding, cross-site writes, CORS
 * preflight, oversized bodies (login included), token variants, the SSE
 * stream limit and the store-query pool. Every request count is bounded,
 * every request has a timeout, and each server is stopped when done.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { available, type RuntimeName } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { send, startTarget, type Target } from "./attack-client.ts";

const RUN = "20260102T000000000Z-attack";
const TOKEN = "attack-suite-token-0123456789";
const INJECTIONS = [
  "' OR 1=1 --",
  "x'; DROP TABLE runs; --",
  "1; SELECT * FROM read_csv('/etc/passwd')",
  "../../etc/passwd",
];
const body = (r: { text: string }) => JSON.parse(r.text);
/** A 413, or the connection cut before half of a `total`-byte body was sent. */
const refusedEarly = (r: { status: number; sent?: number }, total: number) =>
  r.status === 413 || (r.status === 0 && (r.sent ?? total) < total / 2);

interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: string }>;
}

function operations(doc: { paths: Record<string, Record<string, { parameters?: Operation["params"] }>> }) {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods))
      ops.push({ method, path, params: op.parameters ?? [] });
  return ops;
}

describe.each(["node", "bun", "deno"] as const)("attack suite on %s", (runtime: RuntimeName) => {
  const present = available(runtime);
  let open: Target | undefined;
  let locked: Target | undefined;
  beforeAll(async () => {
    if (!present) return;
    [open, locked] = await Promise.all([
      startTarget(runtime, {
        auth: { allowWrites: true },
        limits: { maxStreams: 3, maxQueriesPerClient: 4, maxQueries: 8 },
      }),
      startTarget(runtime, { auth: { allowWrites: true, token: TOKEN } }),
    ]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
  });
  const need = (ctx: { skip: (note?: string) => void }) =>
    requireTool(ctx, present, runtime, "npm install (bun and deno are dev dependencies)");

  it("injection into every parameter of every operation in /openapi.json is a 400 naming it", async (ctx) => {
    need(ctx);
    const port = open!.port;
    const doc = body(await send(port, "/openapi.json"));
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(15);
    let sent = 0;
    const writeHeaders = { Origin: `http://127.0.0.1:${port}`, "Content-Type": "application/json" };
    for (const op of ops) {
      const base = op.path.replace("{id}", op.path.startsWith("/api/alerts") ? "a-1" : RUN);
      for (const p of op.params) {
        for (const bad of INJECTIONS) {
          const url =
            p.in === "path"
              ? op.path.replace(`{${p.name}}`, encodeURIComponent(bad))
              : `${base}?${p.name}=${encodeURIComponent(bad)}`;
          const r = await send(port, url, {
            method: op.method.toUpperCase(),
            ...(op.method === "get" ? {} : { headers: writeHeaders, body: "{}" }),
          });
          sent++;
          if (p.in === "path") {
            expect([400, 404], url).toContain(r.status);
          } else {
            expect(r.status, `${op.method} ${url}`).toBe(400);
            expect(body(r).error.field, url).toMatch(new RegExp(`^query\\.${p.name}(\\[\\d+\\])?$`));
          }
          expect(r.text).not.toMatch(/root:|SELECT|duckdb/i);
        }
      }
    }
    // Bounded: every query parameter of the document, four payloads each.
    expect(sent).toBeGreaterThan(100);
    expect(sent).toBeLessThan(400);
    // A body field: PUT /api/rules with an injected rule name.
    const r = await send(port, "/api/rules", {
      method: "PUT",
      headers: writeHeaders,
      body: JSON.stringify({ rules: { "x'; DROP TABLE alerts; --": { critical: 1 } } }),
    });
    expect(r.status).toBe(400);
    expect(body(r).error.field).toMatch(/^body\.rules\./);
    // Body fields of a redrive: the pipeline path stays in the server's directory, filters are plain.
    for (const [field, bad] of [
      ["pipeline", "../../etc/passwd"],
      ["pipeline", "/etc/passwd.ts"],
      ["pipeline", "x'; DROP TABLE runs; --.ts"],
      ...INJECTIONS.map((i) => ["stage", i]),
      ...INJECTIONS.map((i) => ["reason", i]),
    ]) {
      const rd = await send(port, `/api/runs/${RUN}/redrive`, {
        method: "POST",
        headers: writeHeaders,
        body: JSON.stringify({ [field]: bad }),
      });
      expect(rd.status, `${field}=${bad}`).toBe(400);
      expect(body(rd).error.field, `${field}=${bad}`).toBe(`body.${field}`);
      expect(rd.text).not.toMatch(/root:|SELECT|duckdb/i);
    }
  });

  it("traversal never reaches a file or a handler with a bad name", async (ctx) => {
    need(ctx);
    for (const p of [
      "/api/runs/..%2F..%2Fetc%2Fpasswd",
      "/api/runs/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..%2F..%2F..%2Fetc%2Fpasswd",
      "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/api/runs/a%00b/events",
      "//etc/passwd",
      "/api/runs/x/../../../../etc/passwd",
    ]) {
      const r = await send(open!.port, p);
      expect([400, 404], p).toContain(r.status);
      expect(r.text).not.toMatch(/root:|"name": ?"sluice"/);
    }
  });

  it("DNS rebinding: a foreign Host is 403, reads and /health included; loopback names answer", async (ctx) => {
    need(ctx);
    const port = open!.port;
    for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1.evil.example:${port}`]) {
      for (const path of ["/api/runs", `/api/runs/${RUN}/stream`, "/health", "/"]) {
        const r = await send(port, path, { headers: { Host: host } });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.text).not.toContain(RUN);
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
      expect((await send(port, "/api/runs", { headers: { Host: host } })).status, host).toBe(200);
  });

  it("cross-site writes: the issue's form POST is refused; a same-origin JSON write works", async (ctx) => {
    need(ctx);
    const port = open!.port;
    const cancel = `/api/runs/${RUN}/cancel`;
    const attempts: Array<Record<string, string>> = [
      // The request, as a rebinding page sends it and as a plain cross-site form sends it.
      {
        Origin: "https://evil.example",
        Host: `evil.example:${port}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      { Origin: "https://evil.example", "Content-Type": "application/json" },
      { Origin: `http://127.0.0.1:${port}`, "Content-Type": "text/plain" },
      { "Content-Type": "application/json" },
    ];
    for (const headers of attempts) {
      for (const path of [cancel, `/api/runs/${RUN}/redrive`]) {
        const r = await send(port, path, { method: "POST", headers, body: "x=1" });
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      }
    }
    expect(open!.stdout()).not.toContain("CANCEL");
    const ok = await send(port, cancel, {
      method: "POST",
      headers: { Origin: `http://127.0.0.1:${port}`, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(ok.status).toBe(200);
    expect(body(ok)).toEqual({ cancelled: true });
  });

  it("CORS preflight from another site grants nothing", async (ctx) => {
    need(ctx);
    for (const path of ["/api/rules", `/api/runs/${RUN}/cancel`, "/api/runs"]) {
      const r = await send(open!.port, path, {
        method: "OPTIONS",
        headers: {
          Origin: "https://evil.example",
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": "content-type, authorization",
        },
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(Object.keys(r.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
  });

  it("oversized bodies are 413 on every route, /login included, sized or chunked", async (ctx) => {
    need(ctx);
    for (const t of [open!, locked!]) {
      const form = { "Content-Type": "application/x-www-form-urlencoded" };
      const big = { sized: 200 << 20 };
      expect((await send(t.port, "/login", { method: "POST", headers: form, body: big })).status).toBe(413);
      // Streamed without a length: refused once past the limit, long before the 8 MiB end
      // (a 413, or a connection cut while the body is still coming; a reset can drop the 413).
      const chunked = await send(t.port, "/login", {
        method: "POST",
        headers: form,
        body: { chunked: 8 << 20 },
      });
      expect(refusedEarly(chunked, 8 << 20), `${chunked.status} after ${chunked.sent} bytes`).toBe(true);
      const json = {
        "Content-Type": "application/json",
        Origin: `http://127.0.0.1:${t.port}`,
        Authorization: `Bearer ${TOKEN}`,
      };
      const put = await send(t.port, "/api/rules", {
        method: "PUT",
        headers: json,
        body: { chunked: 8 << 20 },
      });
      expect(refusedEarly(put, 8 << 20), `${put.status} after ${put.sent} bytes`).toBe(true);
      expect(
        (await send(t.port, "/api/rules", { method: "PUT", headers: json, body: { sized: 1 << 20 } })).status,
      ).toBe(413);
    }
  });

  it("token variants: only the right bearer token or the login cookie pass; /health needs none", async (ctx) => {
    need(ctx);
    const port = locked!.port;
    expect((await send(port, "/health")).status).toBe(200);
    const refused: Array<Record<string, string>> = [
      {},
      { Authorization: "Bearer wrong-token-0123456789" },
      { Authorization: `Basic ${TOKEN}` },
      { Authorization: `Bearer ${TOKEN} extra` },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: `Bearer ${TOKEN}x` },
      { Cookie: "sluice_token=nope" },
    ];
    for (const headers of refused) {
      const r = await send(port, "/api/runs", { headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.text).not.toContain(TOKEN);
    }
    expect((await send(port, `/api/runs?token=${TOKEN}`)).status).toBe(401);
    expect((await send(port, "/api/runs", { headers: { Authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const foreign = await send(port, "/login", {
      method: "POST",
      headers: { ...form, Origin: "https://evil.example" },
      body: `token=${TOKEN}`,
    });
    expect(foreign.status).toBe(403);
    const login = await send(port, "/login", {
      method: "POST",
      headers: { ...form, Origin: `http://127.0.0.1:${port}` },
      body: `token=${TOKEN}`,
    });
    expect(login.status).toBe(303);
    const cookie = String(login.headers["set-cookie"]).split(";")[0];
    expect((await send(port, "/api/runs", { headers: { Cookie: cookie } })).status).toBe(200);
    // With a token, a script may write without an Origin.
    const write = await send(port, `/api/runs/${RUN}/cancel`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(write.status).toBe(200);
  });

  it("event streams past the limit are 503", async (ctx) => {
    need(ctx);
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const s = await send(open!.port, `/api/runs/${RUN}/stream`, { headOnly: true });
      expect(s.status).toBe(200);
      streams.push(s);
    }
    const over = await send(open!.port, `/api/runs/${RUN}/stream`);
    expect(over.status).toBe(503);
    for (const s of streams) s.close();
  });

  it("a flood of slow store queries gets 429 + Retry-After past the client's share; /health still answers", async (ctx) => {
    need(ctx);
    const port = open!.port;
    // 12 at once at a query that waits (the fake store's gate): 4 hold the client's slots, 8 are refused at once.
    const replies: Array<{ status: number; headers: Record<string, unknown> }> = [];
    const flood = Array.from({ length: 12 }, () =>
      send(port, "/api/baselines").then((r) => {
        replies.push(r);
        return r;
      }),
    );
    for (let i = 0; i < 1000 && replies.length < 8; i++) await new Promise((r) => setTimeout(r, 20));
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(429));
    for (const r of replies) expect(r.headers["retry-after"]).toBe("1");
    // The client's share is full: its other store routes wait their turn too, the cheap ones answer.
    expect((await send(port, "/api/runs")).status).toBe(429);
    expect((await send(port, "/health")).status).toBe(200);
    expect((await send(port, "/metrics")).status).toBe(200);
    open!.say("release");
    const all = await Promise.all(flood);
    expect(all.filter((r) => r.status === 200).length).toBe(4);
    expect(all.filter((r) => r.status === 429).length).toBe(8);
  });
});
