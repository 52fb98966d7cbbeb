/** Security: injection attempts never reach the store, unknown fields, body size, tokens, writes, bind checks, path tricks, rate limit, no secrets in output. */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { resolveBind } from "../../src/http/cli.ts";
import { tokensEqual } from "../../src/http/internal/auth.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const json = async (r: Response) => JSON.parse(await r.text());
/** What the dashboard's own page sends with a write (`app.request()` URLs are on http://localhost). */
const SAME = { Origin: "http://localhost", "Content-Type": "application/json" };
const INJECTIONS = [
  "' OR 1=1 --",
  "x'; DROP TABLE runs; --",
  "1; SELECT * FROM read_csv('/etc/passwd')",
  "run) UNION SELECT 1 --",
  "../../etc/passwd",
  "a b",
  "%00",
  "é",
  "x".repeat(200),
];

/** Every query parameter of every GET route, and whether it reaches SQL as a name or a value. */
const PARAMS: Array<[string, string[]]> = [
  ["/api/runs", ["pipeline", "status", "cursor", "limit"]],
  ["/api/runs/R/events", ["kind", "cursor", "limit"]],
  ["/api/metrics", ["run", "pipeline", "stage", "metric", "from", "to", "bucket", "limit"]],
  ["/api/alerts", ["state", "run", "pipeline", "cursor", "limit"]],
  ["/api/bottlenecks", ["run"]],
  ["/api/recommendations", ["run"]],
  ["/api/baselines", ["pipeline"]],
  ["/api/regressions", ["pipeline", "run"]],
  ["/api/trends", ["pipeline", "stage", "runs"]],
  ["/api/benchmarks", ["scenario", "cursor", "limit"]],
];

describe("HTTP security", () => {
  it("an injection attempt in any parameter is a 400 naming it, and no query runs", async () => {
    const store = fakeStore();
    const { app } = createApp({ metrics: store });
    let checked = 0;
    for (const [route, params] of PARAMS) {
      for (const name of params) {
        for (const bad of INJECTIONS) {
          const path = route.replace("R", "20260101T000000000Z-abc000");
          const url = `${path}?${name}=${encodeURIComponent(bad)}`;
          const r = await app.request(url);
          expect(r.status, url).toBe(400);
          expect((await json(r)).error.field, url).toMatch(new RegExp(`^query\\.${name}(\\[\\d+\\])?$`));
          checked++;
        }
      }
    }
    for (const bad of INJECTIONS) {
      const r = await app.request(`/api/runs/${encodeURIComponent(bad)}`);
      expect([400, 404], bad).toContain(r.status);
      if (r.status === 404) expect((await json(r)).error.message).toBe("no such route");
    }
    expect(checked).toBeGreaterThan(250);
    expect(store.calls).toEqual([]);
  });

  it("unknown or repeated parameters and unknown body fields are 400s that name the field", async () => {
    const store = fakeStore();
    const { app } = createApp({ metrics: store, auth: { allowWrites: true } });
    const unknown = await json(await app.request("/api/metrics?run=a&colour=red"));
    expect(unknown.error).toMatchObject({ field: "query.colour", message: "query.colour: unknown field" });
    expect((await json(await app.request("/api/runs?limit=1&limit=2"))).error.field).toBe("query.limit");
    expect((await json(await app.request("/api/runs?limit=100000"))).error.field).toBe("query.limit");
    const put = (body: unknown) =>
      app.request("/api/rules", {
        method: "PUT",
        headers: SAME,
        body: JSON.stringify(body),
      });
    expect(
      (await json(await put({ rules: { deadLetterRate: { critical: 0.1, extra: 1 } } }))).error.field,
    ).toBe("body.rules.deadLetterRate.extra");
    expect((await json(await put({ rules: { "x; drop": { critical: 1 } } }))).error.field).toBe(
      "body.rules.x??drop",
    );
    expect((await json(await put({ rules: { p99LatencyMs: { warning: "high" } } }))).error.field).toBe(
      "body.rules.p99LatencyMs.warning",
    );
    expect((await json(await put({ rules: {}, more: true }))).error.field).toBe("body.more");
    const notJson = await app.request("/api/rules", {
      method: "PUT",
      headers: SAME,
      body: "{",
    });
    expect((await json(notJson)).error.field).toBe("body");
    expect(store.calls.filter((c) => c.method === "setRules")).toEqual([]);
    expect((await put({ rules: { deadLetterRate: { critical: 0.05 } } })).status).toBe(200);
  });

  it("bodies over the limit are 413, with or without Content-Length", async () => {
    const { app } = createApp({
      metrics: fakeStore(),
      auth: { allowWrites: true },
      limits: { maxBodyBytes: 1024 },
    });
    const big = JSON.stringify({ rules: { deadLetterRate: { stages: ["x".repeat(2000)] } } });
    const r = await app.request("/api/rules", {
      method: "PUT",
      headers: SAME,
      body: big,
    });
    expect(r.status).toBe(413);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const r2 = await app.request("/api/rules", {
      method: "PUT",
      headers: SAME,
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(r2.status).toBe(413);
  });

  it("with a token, every route but /health needs it; wrong tokens are 401; the token never appears in output", async () => {
    const token = "s3cret-token-0123456789";
    const run = liveRun();
    const { app } = createApp({ metrics: fakeStore(), bus: run.bus, auth: { token } });
    run.start();
    expect((await app.request("/health")).status).toBe(200);
    for (const p of [
      "/",
      "/ready",
      "/metrics",
      "/openapi.json",
      "/api/runs",
      "/api/alerts",
      `/api/runs/${run.runId}/stream`,
    ]) {
      const r = await app.request(p);
      expect(r.status, p).toBe(401);
      expect(r.headers.get("WWW-Authenticate")).toContain("Bearer");
      expect(
        (await app.request(p, { headers: { Authorization: "Bearer wrong-token-0123456789" } })).status,
      ).toBe(401);
      expect((await app.request(p, { headers: { Authorization: `Basic ${token}` } })).status).toBe(401);
    }
    const ok = await app.request("/api/runs", { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const metrics = await app.request("/metrics", { headers: { Authorization: `Bearer ${token}` } });
    const texts = [await ok.text(), await metrics.text()];
    for (const t of texts) expect(t).not.toContain(token);
    // The sign-in form sets an HttpOnly cookie that then authenticates the browser.
    const bad = await app.request("/login", { method: "POST", body: new URLSearchParams({ token: "nope" }) });
    expect(bad.status).toBe(401);
    const login = await app.request("/login", { method: "POST", body: new URLSearchParams({ token }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await app.request("/", { headers: { Cookie: cookie.split(";")[0] } })).status).toBe(200);
  });

  it("tokens are compared by digest (any length, no early exit)", async () => {
    expect(await tokensEqual("abc", "abc")).toBe(true);
    expect(await tokensEqual("abc", "abd")).toBe(false);
    expect(await tokensEqual("", "abc")).toBe(false);
    expect(await tokensEqual("abc".repeat(1000), "abc")).toBe(false);
  });

  it("write routes are 403 unless writes are enabled", async () => {
    const store = fakeStore();
    const run = liveRun();
    const off = createApp({ metrics: store, bus: run.bus, cancel: () => true }).app;
    const put = { method: "PUT", headers: SAME, body: '{"rules":{}}' };
    const post = { method: "POST", headers: SAME, body: "{}" };
    expect((await off.request("/api/rules", put)).status).toBe(403);
    expect((await off.request("/api/alerts/a-1/resolve", post)).status).toBe(403);
    expect((await off.request(`/api/runs/${run.runId}/cancel`, post)).status).toBe(403);
    expect(store.calls.filter((c) => c.method !== "rules")).toEqual([]);
    let cancelled = "";
    const on = createApp({
      metrics: store,
      bus: run.bus,
      auth: { allowWrites: true },
      cancel: (id) => {
        cancelled = id;
        return true;
      },
    }).app;
    expect(await json(await on.request("/api/alerts/a-1/resolve", post))).toEqual({
      resolved: true,
    });
    expect((await on.request("/api/alerts/a-2/resolve", post)).status).toBe(404);
    expect((await on.request(`/api/runs/${run.runId}/cancel`, post)).status).toBe(200);
    expect(cancelled).toBe(run.runId);
  });

  it("refuses a non-loopback bind without a token, with a message that says what to do", () => {
    const saved = process.env.SLUICE_TOKEN;
    delete process.env.SLUICE_TOKEN;
    try {
      expect(resolveBind({})).toMatchObject({ host: "127.0.0.1", port: 7878 });
      expect(resolveBind({ host: "::1", port: 0 }).host).toBe("::1");
      expect(() => resolveBind({ host: "0.0.0.0" })).toThrow(
        /refusing to serve on 0.0.0.0 without a token.*SLUICE_TOKEN/,
      );
      expect(() => resolveBind({ host: "192.168.1.5" })).toThrow(/--token/);
      expect(() => resolveBind({ host: "0.0.0.0", token: "short" })).toThrow(/at least 16/);
      expect(resolveBind({ host: "0.0.0.0", token: "a-long-enough-token-123" }).token).toBe(
        "a-long-enough-token-123",
      );
      process.env.SLUICE_TOKEN = "from-the-environment-123";
      expect(resolveBind({ host: "0.0.0.0" }).token).toBe("from-the-environment-123");
      expect(() => resolveBind({ port: 70_000 })).toThrow(/invalid port/);
    } finally {
      if (saved === undefined) delete process.env.SLUICE_TOKEN;
      else process.env.SLUICE_TOKEN = saved;
    }
  });

  it("path tricks never reach a handler with a bad name", async () => {
    const store = fakeStore();
    const { app } = createApp({ metrics: store });
    for (const p of [
      "/api/runs/..%2F..%2Fetc%2Fpasswd",
      "/api/runs/%2e%2e",
      "/api/runs/.hidden",
      "/api/runs/a%00b/events",
      "/api/runs/a%0d%0aSet-Cookie:x/events",
      "/api/alerts/%2e%2e%2fx/resolve",
    ]) {
      const r = await app.request(p, { method: p.endsWith("resolve") ? "POST" : "GET" });
      expect([400, 403, 404], p).toContain(r.status);
    }
    expect((await app.request("/api/runs/../../etc/passwd")).status).toBe(404);
    expect(store.calls).toEqual([]);
  });

  it("rate limit: 429 with Retry-After past the burst, refilled as virtual time passes; /health is exempt", async () => {
    const clock = new VirtualClock(0);
    const { app } = createApp({ metrics: fakeStore(), clock, limits: { ratePerSecond: 5, burst: 3 } });
    const env = { remoteAddress: "10.0.0.1" };
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.request("/api/runs", {}, env)).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await app.request("/api/runs", {}, env);
    expect(limited.headers.get("Retry-After")).toBe("1");
    expect((await app.request("/api/runs", {}, { remoteAddress: "10.0.0.2" })).status).toBe(200);
    expect((await app.request("/health", {}, env)).status).toBe(200);
    await clock.advance(200);
    expect((await app.request("/api/runs", {}, env)).status).toBe(200);
  });

  it("internal errors are 500 without detail", async () => {
    const store = fakeStore();
    store.runs = async () => {
      throw new Error("SELECT secret FROM /home/user/.sluice/metrics.duckdb failed");
    };
    const { app } = createApp({ metrics: store });
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => errors.push(a);
    try {
      const r = await app.request("/api/runs");
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(text).not.toContain("SELECT");
      expect(text).not.toContain("/home/");
    } finally {
      console.error = orig;
    }
    expect(errors).toHaveLength(1);
  });
});
