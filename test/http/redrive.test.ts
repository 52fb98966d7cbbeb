/**
 * `POST /api/runs/{id}/redrive` (issue 20) through `app.request()`, with the
 * real redrive starter (`src/http/redrive.ts`) and an injected loader: writes
 * off is 403, a token server without one is 401; the pipeline path must stay
 * in the server's directory and the filters refuse SQL- and path-like values
 * (400 naming the field); an unknown run is 404, no state directory 503;
 * a redrive answers 202 as soon as its run has started, a second one while it
 * runs is 409, and once it completes the queue's counts reconcile.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { type RedriveStarter, redriveStarter } from "../../src/http/redrive.ts";
import { pipeline } from "../../src/index.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { map } from "../../src/operators/index.ts";
import type { Pipeline } from "../../src/pipeline/pipeline.ts";
import type { Sink } from "../../src/pipeline/types.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-http-redrive-"));
const home = join(root, ".s");
const out = join(root, "out.ndjson");
const outside = mkdtempSync(join(tmpdir(), "sluice-http-redrive-outside-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const ROWS = Array.from({ length: 50 }, (_, i) => ({ id: i + 1 }));
/** The first version fails every 5th id; the fixed one only id 25. */
const orders = (
  fails: (id: number) => boolean,
  gate?: Promise<void>,
  sink: Sink<unknown> = ndjson(out),
): Pipeline<unknown> =>
  pipeline("orders")
    .from(iterable(ROWS, { chunkSize: 10 }))
    .via(
      map(async (r: { id: number }) => {
        if (gate) await gate;
        if (fails(r.id)) throw new Error(`no price for order ${r.id}`);
        return { id: r.id, cents: r.id * 100 };
      }),
    )
    .to(sink) as Pipeline<unknown>;

let runId = "";
let release: () => void = () => {};
const gate = new Promise<void>((r) => {
  release = r;
});
const logged: string[] = [];
let starter: RedriveStarter;

beforeAll(async () => {
  writeFileSync(join(root, "fixed.ts"), "export default null;\n");
  writeFileSync(join(root, "notes.txt"), "not a pipeline\n");
  writeFileSync(join(outside, "evil.ts"), "export default null;\n");
  symlinkSync(join(outside, "evil.ts"), join(root, "link.ts"));
  mkdirSync(join(root, "pipes"));
  const first = await runJournaled(
    orders((id) => id % 5 === 0),
    { home },
  );
  expect(first.deadLettered).toBe(10);
  runId = first.runId;
  starter = redriveStarter({
    home,
    root,
    load: async () => orders((id) => id === 25, gate),
    log: (line) => logged.push(line),
  });
});

const writeHeaders = { "Content-Type": "application/json", Origin: "http://localhost" };
const post = (app: ReturnType<typeof createApp>["app"], path: string, body: unknown, headers = {}) =>
  app.request(`http://localhost${path}`, {
    method: "POST",
    headers: { ...writeHeaders, ...headers },
    body: JSON.stringify(body),
  });

describe("POST /api/runs/{id}/redrive", () => {
  const app = () => createApp({ home, redrive: starter, auth: { allowWrites: true } }).app;

  it("is 403 with writes off and 401 without the token", async () => {
    const off = createApp({ home, redrive: starter }).app;
    const r = await post(off, `/api/runs/${runId}/redrive`, {});
    expect(r.status).toBe(403);
    expect((await r.json()).error.code).toBe("WritesDisabledError");
    const locked = createApp({
      home,
      redrive: starter,
      auth: { allowWrites: true, token: "redrive-test-token-0123" },
    }).app;
    expect((await post(locked, `/api/runs/${runId}/redrive`, {})).status).toBe(401);
    // Cross-site: another Origin, or not JSON.
    const a = app();
    expect((await post(a, `/api/runs/${runId}/redrive`, {}, { Origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect((await post(a, `/api/runs/${runId}/redrive`, {}, { "Content-Type": "text/plain" })).status).toBe(
      403,
    );
  });

  it("refuses a pipeline path outside the server's directory, and injected filters, naming the field", async () => {
    const a = app();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ pipeline: "/etc/passwd.ts" }, "body.pipeline"],
      [{ pipeline: "../outside.ts" }, "body.pipeline"],
      [{ pipeline: "pipes/../../x.ts" }, "body.pipeline"],
      [{ pipeline: "../../etc/passwd" }, "body.pipeline"],
      [{ pipeline: "link.ts" }, "body.pipeline"], // a symbolic link out of the directory
      [{ pipeline: "notes.txt" }, "body.pipeline"],
      [{ pipeline: "missing.ts" }, "body.pipeline"],
      [{ pipeline: "pipes" }, "body.pipeline"],
      [{ pipeline: "C:\\x.ts" }, "body.pipeline"],
      [{ stage: "x'; DROP TABLE runs; --" }, "body.stage"],
      [{ stage: "../../etc/passwd" }, "body.stage"],
      [{ reason: "' OR 1=1 --" }, "body.reason"],
      [{ reason: "1; SELECT * FROM read_csv('/etc/passwd')" }, "body.reason"],
      [{ line: "1; DROP" }, "body.line"],
      [{ line: -1 }, "body.line"],
      [{ bogus: 1 }, "body.bogus"],
    ];
    for (const [body, field] of cases) {
      const r = await post(a, `/api/runs/${runId}/redrive`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const { error } = await r.json();
      expect(error.field, JSON.stringify(body)).toBe(field);
      expect(error.message).not.toContain(outside);
      expect(error.message).not.toContain(root);
    }
    const q = await post(a, `/api/runs/${runId}/redrive?stage=x`, {});
    expect(q.status).toBe(400);
    expect((await q.json()).error.field).toBe("query.stage");
    // Not a JSON body.
    const raw = await a.request(`http://localhost/api/runs/${runId}/redrive`, {
      method: "POST",
      headers: writeHeaders,
      body: "{",
    });
    expect(raw.status).toBe(400);
  });

  it("is 404 for an unknown run, 400 without a recorded file to fall back on, 503 without a state directory", async () => {
    const a = app();
    const unknown = await post(a, "/api/runs/nosuchrun/redrive", { pipeline: "fixed.ts" });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).not.toContain(home);
    // The first run was started from a program: no pipeline file is recorded for it.
    const none = await post(a, `/api/runs/${runId}/redrive`, {});
    expect(none.status).toBe(400);
    expect((await none.json()).error).toMatchObject({
      field: "body.pipeline",
      message: expect.stringContaining("pass pipeline"),
    });
    const bare = createApp({ auth: { allowWrites: true } }).app;
    expect((await post(bare, `/api/runs/${runId}/redrive`, { pipeline: "fixed.ts" })).status).toBe(503);
  });

  it("is 409 for a run that has not completed (resume it first), not a 500", async () => {
    const stoppedHome = join(root, ".s-stopped");
    const controller = new AbortController();
    const tap = map((r: { id: number }) => {
      if (r.id === 30) controller.abort();
      if (r.id % 5 === 0) throw new Error(`no price for order ${r.id}`);
      return r;
    });
    const p = pipeline("orders", { checkpoint: { rows: 10 } })
      .from(iterable(ROWS, { chunkSize: 10 }))
      .via(tap)
      .to(ndjson(join(root, "stopped.ndjson"))) as Pipeline<unknown>;
    const stopped = await runJournaled(p, { home: stoppedHome, signal: controller.signal });
    expect(stopped.status).toBe("interrupted");
    const own = redriveStarter({ home: stoppedHome, root, load: async () => orders(() => false) });
    const a = createApp({ home: stoppedHome, redrive: own, auth: { allowWrites: true } }).app;
    const r = await post(a, `/api/runs/${stopped.runId}/redrive`, { pipeline: "fixed.ts" });
    expect(r.status).toBe(409);
    expect((await r.json()).error.message).toMatch(
      /has not completed \(interrupted\): its dead letters cannot be redriven yet/,
    );
  });

  it("is in the OpenAPI document: a write with a JSON body, 202 and 409 described", async () => {
    const doc = await (await app().request("/openapi.json")).json();
    const op = doc.paths["/api/runs/{id}/redrive"].post;
    expect(Object.keys(op.requestBody.content["application/json"].schema.properties)).toEqual([
      "pipeline",
      "stage",
      "reason",
      "line",
    ]);
    expect(Object.keys(op.responses)).toEqual(
      expect.arrayContaining(["200", "202", "400", "403", "404", "409"]),
    );
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(["id"]);
  });

  it("is 400 naming body.pipeline when the file does not load or is another pipeline", async () => {
    const lines: string[] = [];
    const loads = [
      async (): Promise<Pipeline<unknown>> => {
        throw new Error(`SyntaxError in ${root}/fixed.ts:1`);
      },
      async () => pipeline("other").from(iterable(ROWS)).to(ndjson(out)) as Pipeline<unknown>,
    ];
    for (const load of loads) {
      const s = redriveStarter({ home, root, load, log: (l) => lines.push(l) });
      const a = createApp({ home, redrive: s, auth: { allowWrites: true } }).app;
      const r = await post(a, "/api/runs/orders/redrive", { pipeline: "fixed.ts" });
      expect(r.status).toBe(400);
      const { error } = await r.json();
      expect(error.field).toBe("body.pipeline");
      expect(error.message).not.toContain(root);
    }
    expect(lines).toEqual([expect.stringContaining("SyntaxError")]);
  });

  it("answers 200 with nothing taken when no letter matches", async () => {
    const r = await post(app(), "/api/runs/orders/redrive", {
      pipeline: "fixed.ts",
      reason: "no such reason",
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ of: runId, taken: 0 });
  });

  it("answers 202 once the redrive has started, 409 to a second one, and the counts reconcile when it completes", async () => {
    const a = app();
    const r = await post(a, "/api/runs/orders/redrive", { pipeline: "fixed.ts", stage: "1:map" });
    expect(r.status).toBe(202);
    const started = await r.json();
    expect(started).toMatchObject({ of: runId, taken: 10, run: expect.stringMatching(/^\d{8}T/) });
    // The redrive waits at the gate: a second request is a conflict, from the run's id or its name.
    for (const id of [runId, "orders", started.run]) {
      const again = await post(a, `/api/runs/${id}/redrive`, { pipeline: "fixed.ts" });
      expect(again.status, id).toBe(409);
      expect((await again.json()).error.code).toBe("ConflictError");
    }
    const pending = await (await a.request(`/api/runs/${runId}/dead-letters`)).json();
    expect(pending.pending.map((p: { runId: string }) => p.runId)).toEqual([started.run]);
    release();
    let q: { counts: { total: number; redriven: number; dead: number }; pending: unknown[] } | undefined;
    for (let i = 0; i < 200; i++) {
      q = await (await a.request(`/api/runs/${runId}/dead-letters`)).json();
      if (q?.pending.length === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(q?.pending).toEqual([]);
    expect(q?.counts).toEqual({ total: 10, redriven: 9, dead: 1 });
    const still = await (await a.request(`/api/runs/${runId}/dead-letters/letters`)).json();
    expect(still.items.map((l: { reason: string }) => l.reason)).toEqual([
      "1:map threw: no price for order 25",
    ]);
    // The sink holds the first run's rows and the recovered ones, each once.
    const ids = readFileSync(out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).id)
      .sort((x: number, y: number) => x - y);
    expect(ids).toEqual(ROWS.map((r) => r.id).filter((id) => id !== 25));
    // Settled: the next redrive finds the one letter still dead.
    await starter.close();
    expect(logged).toEqual([]);
  });

  it("logs a redrive that fails in the background; the server answers on and the run's ledger shows it", async () => {
    const inner = ndjson(join(root, "other.ndjson"));
    const broken: Sink<unknown> = {
      ...inner,
      async open(ctx) {
        const w = await inner.open(ctx);
        return {
          write: () => {
            throw new Error("disk on fire");
          },
          commit: (id) => w.commit(id),
          close: () => w.close(),
          abort: () => w.abort?.() ?? Promise.resolve(),
        };
      },
    };
    const lines: string[] = [];
    const failing = redriveStarter({
      home,
      root,
      load: async () => orders(() => false, undefined, broken),
      log: (line) => lines.push(line),
    });
    const a = createApp({ home, redrive: failing, auth: { allowWrites: true } }).app;
    const r = await post(a, `/api/runs/${runId}/redrive`, { pipeline: "fixed.ts" });
    expect(r.status).toBe(202);
    const { run, taken } = await r.json();
    expect(taken).toBe(1);
    await failing.close();
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(`^sluice http: redrive ${run} of run ${runId} failed: .*disk on fire`),
      ),
    ]);
    const q = await (await a.request(`/api/runs/${runId}/dead-letters`)).json();
    expect(q.pending).toEqual([expect.objectContaining({ runId: run, status: "failed" })]);
    expect(q.counts).toEqual({ total: 10, redriven: 9, dead: 1 });
    // Until it is resumed, a new redrive of the run is a conflict.
    expect((await post(a, `/api/runs/${runId}/redrive`, { pipeline: "fixed.ts" })).status).toBe(409);
  });
});
