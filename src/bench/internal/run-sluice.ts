/**
 * @module The sluice side of a measurement: builds the scenario's pipeline,
 * wraps its sink to time each chunk from its creation at the source to its
 * write, counts records from the run's progress events, and runs it as the
 * scenario asks (plain, journaled, killed and resumed, with a metrics store).
 * Loaded only by measuring processes that run sluice, so a peer's process
 * does not carry the engine.
 */
import { EventBus } from "../../events/bus.ts";
import type { EventOf } from "../../events/schema.ts";
import { makeOperator } from "../../operators/internal/operator.ts";
import { type Pipeline, pipeline } from "../../pipeline/pipeline.ts";
import { type RunOptions, type RunSummary, runPipeline } from "../../pipeline/run.ts";
import { type Sink, SinkTypeId, type SinkWriter } from "../../pipeline/types.ts";
import type { ChildSpec } from "../protocol.ts";
import type { BenchContext, Outcome, Scenario } from "../scenario.ts";
import type { Meter } from "./meter.ts";

type Runner = (p: Pipeline<unknown>, o: RunOptions) => Promise<RunSummary>;

/** The timed work; it resolves to what reads the outcome back (untimed). */
export type Work = () => Promise<() => Promise<Outcome>>;

/** Prepares the run (everything but the timed work) and returns the work. */
export async function prepareSluice(
  scenario: Scenario<unknown>,
  spec: ChildSpec,
  ctx: BenchContext,
  meter: Meter,
  digest: () => string | undefined,
): Promise<Work> {
  const m = scenario.measure;
  const p = withLatencyProbe(await scenario.pipeline(spec.data, ctx), meter);
  const bus = new EventBus();
  bus.subscribe(
    (e) => {
      meter.rows = (e as EventOf<"run.progress">).rowsIn;
    },
    ["run.progress"],
  );
  const journaled = m.journal === true || m.killAfterCheckpoints !== undefined;
  const run = journaled ? await journaledRunner() : runPipeline;
  const store = m.metricsStore ? await openStore(spec.home) : undefined;
  return async () => {
    const sub = store?.attach(bus);
    let summary: RunSummary;
    try {
      summary = await run(p as Pipeline<unknown>, { home: spec.home, bus });
    } finally {
      sub?.unsubscribe();
      if (store) {
        await store.close();
        ctx.metric("events_written", store.stats().written, { unit: "events", better: "higher" });
      }
    }
    if (summary.error) throw summary.error;
    if (summary.status !== "completed") throw new Error(`the run ended ${summary.status}`);
    return async () => {
      const o: Outcome = m.outcome
        ? await m.outcome(summary, spec.data, ctx)
        : { rowsIn: summary.rowsIn, rowsOut: summary.rowsOut, deadLettered: summary.deadLettered };
      const d = o.digest ?? digest();
      return d === undefined ? o : { ...o, digest: d };
    };
  };
}

/** `runJournaled` (as `sluice run` runs pipelines), loaded only for the scenarios that use it. */
async function journaledRunner(): Promise<Runner> {
  const { runJournaled } = await import("../../journal/run-journal.ts");
  return (p, o) => runJournaled(p, { ...o, resume: true });
}

async function openStore(home: string) {
  const { openMetricsStore } = await import("../../metrics/store.ts");
  return openMetricsStore(home);
}

/**
 * The pipeline with chunk latency measured from each chunk's creation at the
 * source to its write at the sink — or, when the pipeline ends with a stage
 * that emits only at the end (an aggregation: cardinality "many" last), to
 * that stage's input, where the chunk's records end their journey.
 */
function withLatencyProbe(p: Pipeline<unknown>, meter: Meter): Pipeline<unknown> {
  const ops = p.operators;
  const lastOp = ops[ops.length - 1];
  if (lastOp?.cardinality !== "many" || !p.sink) {
    return p.sink ? p.to(measured(p.sink, meter)) : p;
  }
  const probe = makeOperator<unknown, unknown>("bench.latency", "one", () => ({
    type: "chunk",
    process(records, chunk) {
      meter.latency(performance.now() - chunk.createdAt);
      return records;
    },
  }));
  let q = pipeline(p.name, p.options).from(p.source);
  for (const op of [...ops.slice(0, -1), probe, lastOp]) q = q.via(op);
  return q.to(p.sink);
}

/** The pipeline's own sink, timing each chunk from its creation at the source to its write. */
function measured<A>(sink: Sink<A>, meter: Meter): Sink<A> {
  return {
    [SinkTypeId]: true,
    name: sink.name,
    delivery: sink.delivery,
    async open(sctx) {
      const w = await sink.open(sctx);
      const done = (createdAt: number) => meter.latency(performance.now() - createdAt);
      const writer: SinkWriter<A> = {
        write(chunk) {
          const r = w.write(chunk);
          if (r instanceof Promise) return r.then(() => done(chunk.createdAt));
          done(chunk.createdAt);
        },
        commit: (id) => w.commit(id),
        close: () => w.close(),
        abort: w.abort ? () => w.abort!() : undefined,
        get target() {
          return w.target;
        },
      };
      return writer;
    },
  };
}
