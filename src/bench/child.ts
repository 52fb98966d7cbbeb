/**
 * @module The measuring process: `sluice bench` starts one per measurement
 * (`<runtime> child.ts <spec.json>`), so the peak RSS it reports belongs to
 * one implementation on one runtime. It loads what it runs first (module
 * loading is not timed; a peer given as a module is imported without the
 * engine or the scenario), prints a start mark, runs the work while
 * sampling records, RSS and CPU, then prints one report line and exits.
 */
import { describeError } from "../pipeline/errors.ts";
import { systemClock } from "../runtime/clock.ts";
import { runtimeName, runtimeVersion } from "../runtime/detect.ts";
import { fs } from "../runtime/fs.ts";
import { argv, exit, importModule, stdout } from "../runtime/process.ts";
import { peakRssBytes } from "./internal/host.ts";
import { Meter } from "./internal/meter.ts";
import type { Work } from "./internal/run-sluice.ts";
import { type ChildReport, type ChildSpec, encodeLine } from "./protocol.ts";
import { type BenchContext, digestOf, loadPeer, type Peer } from "./scenario.ts";

async function main(): Promise<number> {
  const specFile = argv()[0];
  if (!specFile) {
    stdout.write("usage: child <spec.json> (started by `sluice bench`)\n");
    return 2;
  }
  const spec = JSON.parse(await fs.readText(specFile)) as ChildSpec;
  const meter = new Meter();
  let digest: string | undefined;
  const ctx: BenchContext = {
    rows: spec.rows,
    outDir: spec.outDir,
    home: spec.home,
    runtime: runtimeName,
    now: () => performance.now(),
    latency: (startedAt) => meter.latency(performance.now() - startedAt),
    progress: (rows) => {
      meter.rows = rows;
    },
    digest: (value) => {
      digest = typeof value === "string" ? value : digestOf(value);
    },
    metric: (name, value, o) => {
      meter.metrics[name] = { value, unit: o?.unit, better: o?.better };
    },
  };
  let stop = () => {};
  try {
    await fs.mkdirp(spec.outDir);
    const work = await prepare(spec, ctx, meter, () => digest);
    stop = systemClock.every(spec.sampleMs, () => {
      stdout.write(encodeLine({ type: "sample", sample: meter.sample() }));
    });
    stdout.write(encodeLine({ type: "start" }));
    meter.start();
    meter.sample();
    const finish = await work();
    const wallMs = meter.elapsedMs;
    const cpuMs = meter.cpuMs;
    stop();
    // Reading the output back (for the digest) is not part of the timed work.
    const outcome = await finish();
    meter.rows = Math.max(meter.rows, outcome.rowsIn);
    meter.sample();
    report({
      ok: true,
      wallMs,
      cpuMs,
      outcome,
      latency: meter.latencySummary(),
      timeline: meter.timeline,
      metrics: meter.metrics,
    });
    return 0;
  } catch (e) {
    stop();
    report({
      ok: false,
      error: describeError(e),
      wallMs: 0,
      cpuMs: 0,
      timeline: meter.timeline,
      metrics: {},
    });
    return 1;
  }
}

async function prepare(
  spec: ChildSpec,
  ctx: BenchContext,
  meter: Meter,
  digest: () => string | undefined,
): Promise<Work> {
  if (spec.implementation !== "sluice" && spec.peer) {
    const mod = await importModule(spec.peer.href);
    const fn = mod[spec.peer.exportName];
    if (typeof fn !== "function")
      throw new Error(`${spec.peer.href} has no function export "${spec.peer.exportName}"`);
    return withDigest(fn as Peer<unknown>, spec, ctx, digest);
  }
  const { loadScenario } = await import("./load.ts");
  const scenario = await loadScenario(spec.source);
  if (spec.implementation === "sluice") {
    const { prepareSluice } = await import("./internal/run-sluice.ts");
    return prepareSluice(scenario, spec, ctx, meter, digest);
  }
  const p = scenario.peers[spec.implementation];
  if (!p) throw new Error(`scenario ${scenario.name} has no peer "${spec.implementation}"`);
  return withDigest(await loadPeer(p), spec, ctx, digest);
}

async function withDigest(
  peer: Peer<unknown>,
  spec: ChildSpec,
  ctx: BenchContext,
  digest: () => string | undefined,
): Promise<Work> {
  await peer.setup?.(spec.data, ctx);
  return async () => {
    const o = await peer(spec.data, ctx);
    const d = o.digest ?? digest();
    const outcome = d === undefined ? o : { ...o, digest: d };
    return async () => outcome;
  };
}

function report(r: Omit<ChildReport, "runtime" | "runtimeVersion" | "peakRssMb">): void {
  const full: ChildReport = {
    ...r,
    runtime: runtimeName,
    runtimeVersion,
    peakRssMb: Math.round((peakRssBytes() / 2 ** 20) * 10) / 10,
  };
  stdout.write(encodeLine({ type: "report", report: full }));
}

exit(await main());
