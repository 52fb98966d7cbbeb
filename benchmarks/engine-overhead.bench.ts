/**
 * @module Engine overhead: map -> filter -> sum over 10M numbers through
 * sluice (iterable source in chunks of 1,000, `map`, `filter`, a summing sink)
 * against a plain loop over arrays of 1,000, an async generator of arrays,
 * RxJS per element, Effect Stream per element (one element per pull) and
 * Node object-mode streams per element. Targets (DESIGN §9, issue 2): sluice
 * within 1.5x of the plain batched loop, and at least 5x faster than each
 * per-element library. `effect-stream-batched` (Effect pulling arrays of
 * 1,000 itself, element-wise map/filter inside) is shown for context: it is a
 * batched engine like sluice, so the 5x target does not apply to it.
 *
 *   node --import tsx benchmarks/engine-overhead.bench.ts [--n 10000000] [--runs 3] [--only sluice,plain]
 *   node_modules/.bin/bun benchmarks/engine-overhead.bench.ts
 *   node_modules/.bin/deno run -A benchmarks/engine-overhead.bench.ts
 *
 * Each implementation runs in its own child process of the same runtime, so
 * no JIT or heap state leaks between them; in the child it is warmed up and
 * then timed over several passes (see `child`). Runs are interleaved and the
 * best is kept, the steadiest figure on a shared machine; CPU time is shown
 * too (it includes GC helper threads). Every implementation must produce the
 * same sum.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { pipeline, runPipeline } from "../src/index.ts";
import { filter, map } from "../src/operators/index.ts";
import { type Sink, SinkTypeId } from "../src/pipeline/types.ts";
import { iterable } from "../src/sources/index.ts";
import { asyncGenerator, BATCH, effectStream, plainLoop, rxjs } from "./peers/overhead-peers.ts";
import { expectedSum, numbers, type OverheadWork, work } from "./peers/overhead-work.ts";

const IMPLS = [
  "sluice",
  "plain",
  "async-generator",
  "rxjs",
  "effect-stream",
  "effect-stream-batched",
  "node-streams",
] as const;
type Impl = (typeof IMPLS)[number];
const PER_ELEMENT: readonly Impl[] = ["rxjs", "effect-stream", "node-streams"];
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

interface ChildResult {
  readonly impl: Impl;
  readonly ms: number;
  readonly cpuMs: number;
  readonly sum: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** sluice: the iterable source in chunks of 1,000, map, filter, and a sink that sums each chunk. */
async function sluice(data: readonly number[], w: OverheadWork, home: string): Promise<number> {
  let sum = 0;
  const sink: Sink<number> = {
    [SinkTypeId]: true,
    name: "sum()",
    delivery: "at-least-once",
    async open() {
      return {
        write(chunk) {
          const r = chunk.records;
          let s = 0;
          for (let i = 0; i < r.length; i++) s += r[i];
          sum += s;
        },
        commit: (id) => id,
        async close() {},
      };
    },
  };
  const p = pipeline("engine-overhead")
    .from(iterable(data as number[], { chunkSize: BATCH }))
    .via(map(w.map), filter(w.keep))
    .to(sink);
  const summary = await runPipeline(p, { home });
  if (summary.error) throw summary.error;
  return sum;
}

async function runImpl(impl: Impl, data: readonly number[], home: string): Promise<number> {
  switch (impl) {
    case "sluice":
      return sluice(data, work, home);
    case "plain":
      return plainLoop(data, work);
    case "async-generator":
      return asyncGenerator(data, work);
    case "rxjs":
      return rxjs(data, work);
    case "effect-stream":
      return effectStream(data, work, 1);
    case "effect-stream-batched":
      return effectStream(data, work, BATCH);
    case "node-streams": {
      const peer = await import("./peers/overhead-node-streams.ts");
      return peer.default(data, work);
    }
  }
}

/**
 * Warm-up passes (one second's worth, at least one), then timed passes (at
 * least one, up to five or two seconds); the best timed pass is reported, so
 * each implementation is measured with its code optimised, as in a long run.
 */
async function child(impl: Impl, n: number): Promise<void> {
  const data = numbers(n);
  const home = mkdtempSync(join(tmpdir(), "sluice-overhead-"));
  try {
    const warm0 = performance.now();
    for (let k = 0; k === 0 || (k < 20 && performance.now() - warm0 < 1000); k++)
      await runImpl(impl, data, home);
    let best: ChildResult | undefined;
    const timed0 = performance.now();
    for (let k = 0; k < 5 && (k === 0 || performance.now() - timed0 < 2000); k++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const sum = await runImpl(impl, data, home);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      if (!best || ms < best.ms) best = { impl, ms, cpuMs: Math.min(cpuMs, best?.cpuMs ?? cpuMs), sum };
      else best = { ...best, cpuMs: Math.min(cpuMs, best.cpuMs) };
    }
    console.log(JSON.stringify(best));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function runChild(impl: Impl, n: number): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const rest = ["--child", impl, "--n", String(n)];
  const [cmd, args]: [string, string[]] =
    runtime === "deno"
      ? [process.execPath, ["run", "-A", self, ...rest]]
      : runtime === "bun"
        ? [process.execPath, [self, ...rest]]
        : [process.execPath, [...process.execArgv, self, ...rest]];
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${impl} child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as ChildResult;
}

async function main(): Promise<void> {
  const n = Number(arg("n") ?? 10_000_000);
  const childImpl = arg("child");
  if (childImpl !== undefined) return child(childImpl as Impl, n);

  const runs = Number(arg("runs") ?? 3);
  const only = (arg("only")?.split(",") ?? IMPLS) as Impl[];
  const expected = expectedSum(numbers(n));
  console.log(`${runtime}: map -> filter -> sum over ${n.toLocaleString("en")} numbers, best of ${runs}`);

  const best = new Map<Impl, ChildResult>();
  for (let run = 0; run < runs; run++) {
    for (const impl of only) {
      const r = runChild(impl, n);
      if (r.sum !== expected) throw new Error(`${impl} summed ${r.sum}, expected ${expected}`);
      const prev = best.get(impl);
      best.set(impl, prev ? { ...r, ms: Math.min(r.ms, prev.ms), cpuMs: Math.min(r.cpuMs, prev.cpuMs) } : r);
    }
  }

  const ns = (ms: number) => (ms * 1e6) / n;
  const ours = best.get("sluice");
  const plain = best.get("plain");
  const rows = [...best.values()].map((r) => ({
    impl: r.impl,
    "ns/element": ns(r.ms).toFixed(1),
    "ns/element (cpu)": ns(r.cpuMs).toFixed(1),
    "x plain loop": plain ? (r.ms / plain.ms).toFixed(2) : "-",
    "x sluice": ours ? (r.ms / ours.ms).toFixed(2) : "-",
  }));
  console.table(rows);

  if (ours) {
    // Both clocks: wall time is what a user waits, CPU time is steadier when
    // the machine is shared (wall time then includes time other processes ran).
    const verdict = (what: string, x: number, y: number, ok: (r: number) => boolean, target: string) =>
      `${what} = ${x.toFixed(2)} wall, ${y.toFixed(2)} cpu (target ${target}): ${ok(x) && ok(y) ? "met" : ok(x) || ok(y) ? "met on one clock" : "MISSED"}`;
    if (plain) {
      console.log(
        verdict(
          "sluice / plain loop",
          ours.ms / plain.ms,
          ours.cpuMs / plain.cpuMs,
          (r) => r <= 1.5,
          "<= 1.5",
        ),
      );
    }
    for (const impl of PER_ELEMENT) {
      const r = best.get(impl);
      if (r)
        console.log(verdict(`${impl} / sluice`, r.ms / ours.ms, r.cpuMs / ours.cpuMs, (x) => x >= 5, ">= 5"));
    }
  }
}

await main();
