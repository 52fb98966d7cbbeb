/**
 * @module What the `cache` operator costs and buys.
 *
 *   node --import tsx benchmarks/cache.bench.ts [--records N] [--service-records N]
 *   node_modules/.bin/bun benchmarks/cache.bench.ts
 *   node_modules/.bin/deno run -A benchmarks/cache.bench.ts
 *
 * 1. Hit path: one all-hit chunk of 1000 records through the cache stage,
 *    per record, against the same work done with `lru-cache` directly (key
 *    function + `get` into an output array) with the same bounds — with and
 *    without `lru-cache`'s own TTL. Target: ≤ 1.5× the direct cost.
 * 2. Enrichment: a pipeline calling a simulated 5 ms service (a real timer),
 *    20% distinct keys, with and without the cache; the speedup is set
 *    against the hit-rate limit 1 / (1 − hit rate) = 5×.
 * 3. L2: latency of a disk hit (L1 holds one entry and L2 reads never
 *    promote, so each lookup reads LMDB), p50/p99, and entries/s written when
 *    L1 flushes to L2 (commit included).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { LRUCache } from "lru-cache";
import { pipeline, runCollect } from "../src/index.ts";
import { cache, map } from "../src/operators/index.ts";
import { makeChunk } from "../src/pipeline/chunk.ts";
import type { Operator, Stage, StageContext } from "../src/pipeline/types.ts";
import { systemClock } from "../src/runtime/clock.ts";
import { iterable } from "../src/sources/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
const runtime = g.Bun
  ? `bun ${g.Bun.version}`
  : g.Deno
    ? `deno ${g.Deno.version.deno}`
    : `node ${process.version}`;
const home = mkdtempSync(join(tmpdir(), "sluice-cache-bench-"));
const ROUNDS = arg("records", 3_000_000);
const SERVICE = arg("service-records", 2_000);

function stageContext(stage: string): StageContext {
  return {
    runId: "bench",
    pipeline: "bench",
    clock: systemClock,
    runDir: home,
    home,
    signal: new AbortController().signal,
    emit: () => {},
    stage,
    index: 1,
    onError: "dead-letter",
    deadLetter: () => {},
    reportBusy: () => {},
    reportChunk: () => {},
    reportCpu: () => {},
    offerKnob: () => {},
    sideOutput: () => ({ write: () => {} }),
  };
}

async function openStage<A, B>(op: Operator<A, B>, name: string): Promise<Stage<A, B>> {
  const st = op.make(stageContext(name));
  await st.start?.();
  return st;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

// ---------------------------------------------------------------- 1. hit path
interface User {
  id: number;
  name: string;
}
const KEYS = 1000;
const records: User[] = Array.from({ length: 1000 }, (_, i) => ({ id: i % KEYS, name: `user ${i}` }));
const key = (u: User) => u.id;
const value = (u: User) => ({ id: u.id, segment: `s${u.id % 7}`, score: u.id / 3 });

async function hitPath(): Promise<Record<string, number>> {
  const st = await openStage(
    cache({ key, ttl: "10m", maxEntries: 10_000, maxBytes: "64MiB" }, map(value)),
    "cache",
  );
  if (st.type !== "chunk") throw new Error("cache is a chunk stage");
  const chunk = makeChunk(records, { seq: 0 });
  await st.process(records, chunk); // fill

  const direct = (withTtl: boolean) => {
    const lru = new LRUCache<number, { v: unknown }>({
      max: 10_000,
      maxSize: 64 * 1024 * 1024,
      sizeCalculation: () => 100,
      ...(withTtl ? { ttl: 600_000 } : {}),
    });
    for (const r of records) lru.set(key(r), { v: value(r) });
    return () => {
      const out: unknown[] = new Array(records.length);
      for (let i = 0; i < records.length; i++) out[i] = lru.get(key(records[i]))?.v;
      return out;
    };
  };
  const lruNoTtl = direct(false);
  const lruTtl = direct(true);
  const ours = () => (st as { process: (r: User[], c: typeof chunk) => unknown }).process(records, chunk);

  const time = (fn: () => unknown) => {
    const chunks = Math.max(1, Math.floor(ROUNDS / records.length));
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) fn();
    return ((performance.now() - t0) * 1e6) / (chunks * records.length); // ns per record
  };
  // Warm up, then alternate the three so drift hits them alike; take medians.
  for (let i = 0; i < 3; i++) for (const f of [ours, lruNoTtl, lruTtl]) time(f);
  const r = { ours: [] as number[], noTtl: [] as number[], ttl: [] as number[] };
  for (let i = 0; i < 7; i++) {
    r.ours.push(time(ours));
    r.noTtl.push(time(lruNoTtl));
    r.ttl.push(time(lruTtl));
  }
  await st.close?.();
  return { ours: median(r.ours), noTtl: median(r.noTtl), ttl: median(r.ttl) };
}

// ---------------------------------------------------------------- 2. enrichment
async function enrichment(): Promise<{ without: number; with: number; hitRate: number }> {
  const distinct = Math.floor(SERVICE * 0.2);
  // Each key 5 times, spread out (a deterministic shuffle), chunks of 100.
  const input = Array.from({ length: SERVICE }, (_, i) => ({ id: (i * 7919) % distinct, n: i }));
  const service = (r: { id: number }) =>
    new Promise<{ id: number; tier: string }>((resolve) =>
      setTimeout(() => resolve({ id: r.id, tier: `t${r.id % 3}` }), 5),
    );
  const run = async (cached: boolean) => {
    const stage = cached ? cache({ key: (r: { id: number }) => r.id }, map(service)) : map(service);
    const t0 = performance.now();
    const out = await runCollect(
      pipeline(cached ? "enrich-cached" : "enrich")
        .from(iterable(input, { chunkSize: 100 }))
        .via(stage),
      {
        home,
        sampleResources: false,
      },
    );
    if (out.length !== SERVICE) throw new Error(`expected ${SERVICE} records, got ${out.length}`);
    return performance.now() - t0;
  };
  const without = await run(false);
  const withCache = await run(true);
  return { without, with: withCache, hitRate: 1 - distinct / SERVICE };
}

// ---------------------------------------------------------------- 3. L2
async function l2(): Promise<{ p50: number; p99: number; writesPerSecond: number; entries: number }> {
  const N = 50_000;
  const op = () =>
    cache(
      {
        key: (n: number) => n,
        maxEntries: N + 1,
        disk: { promoteAfter: 1e9, maxEntries: 10 * N },
        namespace: "l2-bench",
      },
      map((n: number) => ({ n, label: `entry number ${n}`, tags: ["a", "b"], at: 1_700_000_000_000 + n })),
    );
  // Write: compute N entries in L1, then time the flush to L2 through the commit (close waits for it).
  const writer = await openStage(op(), "writer");
  if (writer.type !== "chunk") throw new Error("cache is a chunk stage");
  const all = Array.from({ length: N }, (_, i) => i);
  for (let i = 0; i < N; i += 1000) await writer.process(all.slice(i, i + 1000), makeChunk([], { seq: i }));
  const t0 = performance.now();
  await writer.close?.();
  const writeMs = performance.now() - t0;

  // Read: L1 holds one entry, so every lookup of another key is an L2 read.
  const reader = await openStage(
    cache(
      { key: (n: number) => n, maxEntries: 1, disk: { promoteAfter: 1e9 }, namespace: "l2-bench" },
      map((n: number): unknown => {
        throw new Error(`L2 should have held ${n}`);
      }),
    ),
    "reader",
  );
  if (reader.type !== "chunk") throw new Error("cache is a chunk stage");
  const lat: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const k = (i * 7919) % N;
    const one = [k];
    const c = makeChunk(one, { seq: i });
    const t = performance.now();
    reader.process(one, c);
    lat.push(performance.now() - t);
  }
  await reader.close?.();
  lat.sort((a, b) => a - b);
  return {
    p50: pct(lat, 0.5) * 1000,
    p99: pct(lat, 0.99) * 1000,
    writesPerSecond: (N / writeMs) * 1000,
    entries: N,
  };
}

const h = await hitPath();
const e = await enrichment();
const d = await l2();
rmSync(home, { recursive: true, force: true });

const f = (n: number, digits = 1) => n.toFixed(digits);
console.log(`cache benchmark (${runtime})`);
console.log("1. hit path, ns/record (1000-record all-hit chunks)");
console.log(`   cache stage              ${f(h.ours)}`);
console.log(`   lru-cache direct         ${f(h.noTtl)}   ratio ${f(h.ours / h.noTtl, 2)}x  (target <= 1.5x)`);
console.log(`   lru-cache direct + ttl   ${f(h.ttl)}   ratio ${f(h.ours / h.ttl, 2)}x`);
console.log(`2. enrichment, ${SERVICE} records, 5 ms service, ${f((1 - e.hitRate) * 100, 0)}% distinct keys`);
console.log(`   without cache ${f(e.without / 1000, 2)} s, with cache ${f(e.with / 1000, 2)} s`);
console.log(
  `   speedup ${f(e.without / e.with, 2)}x of the ${f(1 / (1 - e.hitRate), 1)}x hit-rate limit (${f((e.without / e.with) * (1 - e.hitRate) * 100, 0)}%)`,
);
console.log(`3. L2 (LMDB), ${d.entries} entries`);
console.log(
  `   disk hit p50 ${f(d.p50, 2)} us, p99 ${f(d.p99, 2)} us (per 1-record lookup through the stage)`,
);
console.log(`   L1 -> L2 flush ${f(d.writesPerSecond / 1000, 0)}k entries/s (commit included)`);
