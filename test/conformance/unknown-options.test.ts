/**
 * Every exported source, operator and sink rejects an option it does not
 * know with a ConfigError that names it and lists the allowed ones (a typo
 * in a pipeline file must not change what the pipeline means). The test
 * walks the exports of sluice/sources, sluice/operators and sluice/sinks: a
 * new factory without a case here fails it, so it cannot ship without the
 * check. Factories that take no options at all are listed, and their
 * parameter lists are pinned by type assertions (checked by tsc), so one
 * that grows an options parameter must move to the cases.
 */
import { of } from "rxjs";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as operators from "../../src/operators/index.ts";
import { ConfigError } from "../../src/pipeline/errors.ts";
import * as sinks from "../../src/sinks/index.ts";
import * as sources from "../../src/sources/index.ts";

type Opts = Record<string, unknown>;
/** Calls the factory with its required arguments and `o` merged into its options. */
type Case = { readonly call: (o: Opts) => unknown; readonly known: string };

const id = operators.map((x: unknown) => x);
const never = <T>(x: T) => x as never;

const cases: Record<string, Record<string, Case>> = {
  sources: {
    csv: { call: (o) => sources.csv("x.csv", never(o)), known: "delimiter" },
    ndjson: { call: (o) => sources.ndjson("x.ndjson", never(o)), known: "bufferSize" },
    json: { call: (o) => sources.json("x.json", never(o)), known: "path" },
    excel: { call: (o) => sources.excel("x.xlsx", never(o)), known: "sheet" },
    iterable: { call: (o) => sources.iterable([1], never(o)), known: "chunkSize" },
    fromObservable: { call: (o) => sources.fromObservable(of(1), never(o)), known: "overflow" },
    parquet: { call: (o) => sources.parquet("x.parquet", never(o)), known: "columns" },
    jetstream: {
      call: (o) => sources.jetstream(never({ nats: "nats://127.0.0.1:4222", stream: "S", ...o })),
      known: "until",
    },
  },
  operators: {
    aggregate: { call: (o) => operators.aggregate(never({ aggregate: { n: "count" }, ...o })), known: "key" },
    bulkhead: { call: (o) => operators.bulkhead(never({ concurrency: 1, ...o }), id), known: "queue" },
    cache: { call: (o) => operators.cache(never(o), id), known: "ttl" },
    chunk: { call: (o) => operators.chunk(never({ rows: 10, ...o })), known: "adaptive" },
    circuitBreaker: { call: (o) => operators.circuitBreaker(never(o), id), known: "openFor" },
    dedupe: { call: (o) => operators.dedupe((x: unknown) => String(x), never(o)), known: "maxKeys" },
    keyed: {
      call: (o) =>
        operators.keyed(
          (x: unknown) => String(x),
          (s) => s,
          never(o),
        ),
      known: "ttl",
    },
    mapAsync: { call: (o) => operators.mapAsync((x: unknown) => x, never(o)), known: "concurrency" },
    parallelMap: { call: (o) => operators.parallelMap("./work.ts", never(o)), known: "workers" },
    rateLimit: { call: (o) => operators.rateLimit(never({ perSecond: 1, ...o })), known: "burst" },
    retry: { call: (o) => operators.retry(never(o), id), known: "attempts" },
    rx: { call: (o) => operators.rx((s) => s, never(o)), known: "onBarrier" },
    timeout: { call: (o) => operators.timeout("1s", id, never(o)), known: "per" },
  },
  sinks: {
    console: { call: (o) => sinks.console(never(o)), known: "format" },
    csv: { call: (o) => sinks.csv("x.csv", never(o)), known: "columns" },
    duckdb: { call: (o) => sinks.duckdb(never({ table: "t", ...o })), known: "mode" },
    parquet: { call: (o) => sinks.parquet("x.parquet", never(o)), known: "rowGroupRows" },
    jetstream: {
      call: (o) => sinks.jetstream(never({ nats: "nats://127.0.0.1:4222", subject: "s.a", ...o })),
      known: "stream",
    },
  },
};

/** Exported functions that take no options object. */
const noOptions: Record<string, readonly string[]> = {
  sources: [],
  operators: ["fallback", "filter", "flatMap", "map", "tap"],
  sinks: ["collect", "ndjson", "fileSink"],
};
/** Exported functions that are not components (builders and error classes). */
const notComponents = ["makeOperator", "BulkheadFullError", "CircuitOpenError", "TimeoutError"];

const modules: Record<string, Record<string, unknown>> = { sources, operators, sinks };

describe("unknown options", () => {
  for (const [layer, mod] of Object.entries(modules)) {
    it(`every factory of sluice/${layer} has a case here (or takes no options)`, () => {
      const factories = Object.entries(mod)
        .filter(([name, v]) => typeof v === "function" && !notComponents.includes(name))
        .map(([name]) => name);
      const covered = [...Object.keys(cases[layer]), ...noOptions[layer]];
      expect(
        factories.filter((f) => !covered.includes(f)),
        "factories without a case",
      ).toEqual([]);
      expect(
        covered.filter((f) => !factories.includes(f)),
        "cases without a factory",
      ).toEqual([]);
    });

    for (const [name, c] of Object.entries(cases[layer])) {
      it(`${layer}: ${name} rejects { bogusOption: 1 }, naming it and listing the allowed options`, () => {
        expect(() => c.call({})).not.toThrow();
        let error: unknown;
        try {
          c.call({ bogusOption: 1 });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        const e = error as ConfigError;
        expect(e.message).toContain('"bogusOption"');
        expect(e.hint).toMatch(/^Allowed options: /);
        expect(e.hint).toContain(c.known);
      });
    }
  }

  it("parallelMap's cluster option rejects unknown keys, a missing server and local-only options", () => {
    expect(() =>
      operators.parallelMap("./work.ts", never({ cluster: { nats: "nats://h:4222", nodes: 2 } })),
    ).toThrow(/parallelMap\(\) cluster: unknown option "nodes"/);
    expect(() => operators.parallelMap("./work.ts", never({ cluster: {} }))).toThrow(
      /cluster needs the NATS server/,
    );
    expect(() =>
      operators.parallelMap("./work.ts", { workers: 2, cluster: { nats: "nats://h:4222" } }),
    ).toThrow(/workers applies to a local pool, not with cluster/);
  });

  it("window.tumbling, window.sliding and window.session (an object of factories) reject unknown options", () => {
    const base = { time: "t", watermark: { outOfOrder: 0 }, lateness: 0, aggregate: { n: "count" } };
    const kinds = {
      tumbling: (o: Opts) => operators.window.tumbling("1m", never({ ...base, ...o })),
      sliding: (o: Opts) => operators.window.sliding("1m", "10s", never({ ...base, ...o })),
      session: (o: Opts) => operators.window.session("1m", never({ ...base, ...o })),
    };
    expect(Object.keys(operators.window).sort()).toEqual(Object.keys(kinds).sort());
    for (const [name, call] of Object.entries(kinds)) {
      expect(() => call({}), name).not.toThrow();
      expect(() => call({ bogusOption: 1 }), name).toThrow(/unknown option "bogusOption"/);
      expect(() => call({ watermark: { outOfOrder: 0, bogus: 1 } }), name).toThrow(ConfigError);
    }
  });

  it("nested option objects are checked too", () => {
    expect(() => operators.chunk(never({ adaptive: { targetLatncy: "50ms" } }))).toThrow(/"targetLatncy"/);
    expect(() => operators.parallelMap("./w.ts", never({ backoff: { inital: "1s" } }))).toThrow(/"inital"/);
  });

  it("factories without options have no options parameter (pinned for tsc)", () => {
    expectTypeOf<Parameters<typeof operators.map>["length"]>().toEqualTypeOf<1>();
    expectTypeOf<Parameters<typeof operators.filter>["length"]>().toEqualTypeOf<1>();
    expectTypeOf<Parameters<typeof operators.flatMap>["length"]>().toEqualTypeOf<1>();
    expectTypeOf<Parameters<typeof operators.tap>["length"]>().toEqualTypeOf<1>();
    expectTypeOf<Parameters<typeof operators.fallback>["length"]>().toEqualTypeOf<2>();
    expectTypeOf<Parameters<typeof sinks.collect>["length"]>().toEqualTypeOf<0>();
    expectTypeOf<Parameters<typeof sinks.ndjson>["length"]>().toEqualTypeOf<1>();
    expectTypeOf<Parameters<typeof sinks.fileSink>["length"]>().toEqualTypeOf<3>();
  });
});
