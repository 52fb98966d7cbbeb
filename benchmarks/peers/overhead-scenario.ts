/**
 * @module Peers of the `engine-overhead` scenario: the implementations of
 * `benchmarks/engine-overhead.bench.ts` (`overhead-peers.ts`,
 * `overhead-node-streams.ts`, `overhead-work.ts`) as they are, adapted to the
 * scenario's peer signature. The numbers are built before the clock starts
 * (`setup`), as sluice's are.
 */
import type { BenchContext, Outcome, Peer } from "../../src/bench/scenario.ts";
import { digestOf } from "../../src/bench/scenario.ts";
import nodeStreamsImpl from "./overhead-node-streams.ts";
import {
  asyncGenerator as asyncGeneratorImpl,
  effectStream as effectImpl,
  plainLoop as plainImpl,
  rxjs as rxjsImpl,
} from "./overhead-peers.ts";
import { numbers, work } from "./overhead-work.ts";

interface Data {
  readonly rows: number;
}

function peer(run: (data: readonly number[]) => number | Promise<number>): Peer<Data> {
  let data: number[] = [];
  const fn: Peer<Data> = async (d: Data, _ctx: BenchContext): Promise<Outcome> => {
    const sum = await run(data);
    // Kept: the i with (2i + 1) % 3 === 0, i.e. i % 3 === 1.
    return { rowsIn: d.rows, rowsOut: Math.floor((d.rows + 1) / 3), digest: digestOf({ sum }) };
  };
  fn.setup = (d) => {
    data = numbers(d.rows);
  };
  return fn;
}

export const plainLoop = peer((data) => plainImpl(data, work));
export const asyncGenerator = peer((data) => asyncGeneratorImpl(data, work));
export const rxjs = peer((data) => rxjsImpl(data, work));
export const effectStream = peer((data) => effectImpl(data, work, 1));
export const effectStreamBatched = peer((data) => effectImpl(data, work, 1000));
export const nodeStreams = peer((data) => nodeStreamsImpl(data, work));
