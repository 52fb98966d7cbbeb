/**
 * Issue 16 through `app.request()`: the Host allow-list (DNS rebinding), the
 * cross-site write checks, the body limit on `/login`, the store-query pool,
 * and the loopback rule of `resolveBind` as the README states it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { resolveBind } from "../../src/http/cli.ts";
import { hostPolicy } from "../../src/http/internal/origin.ts";
import { repo } from "../helpers/runtimes.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const json = async (r: Response) => JSON.parse(await r.text());
const TOKEN = "s3cret-token-0123456789";

function writable(extra: Parameters<typeof createApp>[0] = {}) {
  const run = liveRun();
  const cancelled: string[] = [];
  const { app } = createApp({
    metrics: fakeStore(),
    bus: run.bus,
    cancel: (id) => {
      cancelled.push(id);
      return true;
    },
    ...extra,
    auth: { allowWrites: true, ...extra.auth },
  });
  run.start();
  return { app, run, cancelled };
}

describe("Host allow-list (DNS rebinding)", () => {
  it("a loopback bind answers to its loopback names only; a rebinding page's Host is 403 naming the fix", async () => {
    const { app } = createApp({ metrics: fakeStore() });
    for (const host of ["localhost:7878", "127.0.0.1:7878", "[::1]:7878", "LOCALHOST", "localhost."])
      expect((await app.request("http://x/api/runs", { headers: { Host: host } })).status, host).toBe(200);
    for (const host of [
      "evil.example:7878",
      "evil.example",
      "127.0.0.1.nip.io",
      "localhost.evil.example",
      "",
    ]) {
      const r = await app.request("http://x/api/runs", { headers: { Host: host } });
      expect(r.status, host).toBe(403);
      const body = await json(r);
      expect(body.error.code).toBe("HostNotAllowedError");
      if (host) expect(body.error.message).toContain(`--allowed-hosts ${host.replace(/:\d+$/, "")}`);
    }
    // Even /health: a rebinding page learns nothing from this server.
    expect((await app.request("http://x/health", { headers: { Host: "evil.example" } })).status).toBe(403);
  });

  it("--allowed-hosts adds names (any port, or the one given); a wildcard bind takes IP literals", () => {
    const p = hostPolicy("127.0.0.1", ["dash.internal", "proxy.example:8443"]);
    p.check("dash.internal:9999");
    p.check("proxy.example:8443");
    expect(() => p.check("proxy.example:80")).toThrow(/not a name this server answers to/);
    const bound = hostPolicy("192.168.1.5");
    bound.check("192.168.1.5:7878");
    expect(() => bound.check("localhost:7878")).toThrow();
    const any = hostPolicy("0.0.0.0");
    any.check("10.1.2.3:7878");
    any.check("[fe80::1]:7878");
    any.check("localhost");
    expect(() => any.check("evil.example")).toThrow();
    expect(() => resolveBind({ allowedHosts: ["ok.example,bad host"] })).toThrow(
      /--allowed-hosts: "bad host"/,
    );
    expect(resolveBind({ allowedHosts: ["a.example,b.example:81"] }).allowedHosts).toEqual([
      "a.example",
      "b.example:81",
    ]);
  });
});

describe("cross-site writes", () => {
  it("the issue's form POST with a foreign Origin does not cancel the run", async () => {
    const { app, run, cancelled } = writable();
    const r = await app.request(`http://127.0.0.1/api/runs/${run.runId}/cancel`, {
      method: "POST",
      headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: "x=1",
    });
    expect(r.status).toBe(403);
    expect((await json(r)).error.code).toBe("CrossSiteWriteError");
    expect(cancelled).toEqual([]);
  });

  it("a write needs JSON and a matching Origin, or no Origin and a token", async () => {
    const { app, run, cancelled } = writable();
    const cancel = (headers: Record<string, string>) =>
      app.request(`http://127.0.0.1:7878/api/runs/${run.runId}/cancel`, {
        method: "POST",
        headers,
        body: "{}",
      });
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { Origin: "http://127.0.0.1:7878", "Content-Type": "text/plain" },
        /needs Content-Type: application\/json/,
      ],
      [
        { Origin: "http://127.0.0.1:7878", "Content-Type": "multipart/form-data; boundary=x" },
        /application\/json/,
      ],
      [{ Origin: "http://127.0.0.1:7878" }, /application\/json/],
      [{ Origin: "http://127.0.0.1:9999", "Content-Type": "application/json" }, /another origin/],
      [{ Origin: "null", "Content-Type": "application/json" }, /another origin/],
      [{ Origin: "file://", "Content-Type": "application/json" }, /another origin/],
      [{ "Content-Type": "application/json" }, /no Origin header.*SLUICE_TOKEN/],
    ];
    for (const [headers, message] of cases) {
      const r = await cancel({ Host: "127.0.0.1:7878", ...headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect((await json(r)).error.message).toMatch(message);
    }
    expect(cancelled).toEqual([]);
    const ok = await cancel({
      Host: "127.0.0.1:7878",
      Origin: "http://127.0.0.1:7878",
      "Content-Type": "application/json; charset=utf-8",
    });
    expect(ok.status).toBe(200);
    expect(cancelled).toEqual([run.runId]);
  });

  it("with a token, a script without Origin may write (the token check has the last word)", async () => {
    const { app, run, cancelled } = writable({ auth: { token: TOKEN } });
    const post = (headers: Record<string, string>) =>
      app.request(`/api/runs/${run.runId}/cancel`, { method: "POST", headers, body: "{}" });
    expect((await post({ "Content-Type": "application/json" })).status).toBe(401);
    expect(
      (await post({ "Content-Type": "application/json", Authorization: "Bearer wrong-0123456789" })).status,
    ).toBe(401);
    expect(cancelled).toEqual([]);
    expect(
      (await post({ "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(200);
    expect(cancelled).toEqual([run.runId]);
  });

  it("CORS: a preflight gets no Access-Control-Allow-* header, so browsers never send the write", async () => {
    const { app } = writable();
    const r = await app.request("/api/rules", {
      method: "OPTIONS",
      headers: {
        Origin: "https://evil.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(r.status).toBe(404);
    const names: string[] = [];
    r.headers.forEach((_v, k) => {
      names.push(k);
    });
    expect(names.filter((k) => k.startsWith("access-control-"))).toEqual([]);
  });
});

describe("body limit on every route", () => {
  it("POST /login is 413 past the limit, with or without Content-Length, token or not", async () => {
    for (const token of [undefined, TOKEN]) {
      const { app } = createApp({ metrics: fakeStore(), auth: { token }, limits: { maxBodyBytes: 1024 } });
      const big = `token=${"x".repeat(4096)}`;
      const sized = await app.request("/login", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Content-Length": String(big.length),
        },
        body: big,
      });
      expect(sized.status).toBe(413);
      let pulled = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(c) {
          // An endless body: the limit must stop reading it, not the end of the stream.
          pulled++;
          c.enqueue(new Uint8Array(512).fill(120));
        },
      });
      const chunked = await app.request("/login", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: endless,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(pulled).toBeLessThan(10);
    }
  });
});

describe("store-query pool", () => {
  it("a client past its share of in-flight queries gets 429 + Retry-After; others, /health and /metrics still answer", async () => {
    const store = fakeStore();
    let open = (_: unknown) => {};
    const gate = new Promise((r) => {
      open = r;
    });
    const runs = store.runs;
    store.runs = async (q) => {
      await gate;
      return runs(q);
    };
    const { app } = createApp({ metrics: store, limits: { maxQueriesPerClient: 3, maxQueries: 5 } });
    const a = { remoteAddress: "10.0.0.1" };
    const b = { remoteAddress: "10.0.0.2" };
    const held = [0, 1, 2].map(() => app.request("/api/runs", {}, a));
    const refused = await app.request("/api/runs", {}, a);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect((await json(refused)).error.code).toBe("QueriesBusyError");
    const heldB = [0, 1].map(() => app.request("/api/runs", {}, b));
    // The server's pool (5) is full now: a third client gets 503 with Retry-After.
    const full = await app.request("/api/alerts", {}, { remoteAddress: "10.0.0.3" });
    expect(full.status).toBe(503);
    expect(full.headers.get("Retry-After")).toBe("1");
    expect((await app.request("/health", {}, a)).status).toBe(200);
    expect((await app.request("/metrics", {}, a)).status).toBe(200);
    open(undefined);
    for (const r of await Promise.all([...held, ...heldB])) expect(r.status).toBe(200);
    // Slots come back, failures included.
    store.alerts = async () => {
      throw new Error("boom");
    };
    const errors = console.error;
    console.error = () => {};
    try {
      for (let i = 0; i < 6; i++) expect((await app.request("/api/alerts", {}, a)).status).toBe(500);
    } finally {
      console.error = errors;
    }
    expect((await app.request("/api/runs", {}, a)).status).toBe(200);
  });
});

describe("loopback binds: the code and the README say the same", () => {
  it("all of 127.0.0.0/8, ::1 and localhost bind without a token; nothing else does", () => {
    const saved = process.env.SLUICE_TOKEN;
    delete process.env.SLUICE_TOKEN;
    try {
      for (const host of ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "localhost"])
        expect(resolveBind({ host }).host, host).toBe(host);
      for (const host of ["0.0.0.0", "::", "::ffff:127.0.0.1", "128.0.0.1", "10.0.0.1"])
        expect(() => resolveBind({ host }), host).toThrow(/loopback \(127\.0\.0\.0\/8, ::1, localhost\)/);
    } finally {
      if (saved !== undefined) process.env.SLUICE_TOKEN = saved;
    }
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    expect(readme).toContain("loopback (127.0.0.0/8, `::1`, `localhost`)");
    expect(readme).not.toMatch(/binds 127\.0\.0\.1; any other address needs/);
  });
});
