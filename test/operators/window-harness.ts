/**
 * Test helpers for the window operators: the operator under test built from
 * a reference `Kind`, and a driver that runs records through its stage in
 * chunks (optionally snapshotting through msgpack and restoring into a new
 * stage after one chunk, as a resumed run does).
 */
import { decode, encode } from "@msgpack/msgpack";
import { window } from "../../src/operators/index.ts";
import type { Operator, Stage } from "../../src/pipeline/types.ts";
import { harness, open, processChunk } from "./stage-harness.ts";
import type { Kind, Rec, RefResult } from "./window-reference.ts";

const columns = {
  n: "count",
  sum: ["sum", "v"],
  lo: ["min", "v"],
  hi: ["max", "v"],
  first: ["first", "v"],
  last: ["last", "v"],
  mean: ["avg", "v"],
} as const;

export function makeWindow(
  kind: Kind,
  o: { bound: number; lateness: number; updates: boolean; partitioned?: boolean },
) {
  const opts = {
    time: (r: Rec) => r.t,
    watermark: { outOfOrder: o.bound, ...(o.partitioned ? { partition: (r: Rec) => r.p ?? 0 } : {}) },
    lateness: o.lateness,
    key: (r: Rec) => r.k,
    aggregate: columns,
    emit: o.updates ? ("updates" as const) : ("final" as const),
  };
  if (kind.type === "tumbling") return window.tumbling(kind.size, opts);
  if (kind.type === "sliding") return window.sliding(kind.size, kind.every, opts);
  return window.session(kind.gap, opts);
}

export type Out = { key: unknown; start: Date; end: Date } & Record<string, unknown>;

export const plain = (r: Out): RefResult =>
  ({ ...r, start: r.start.getTime(), end: r.end.getTime() }) as unknown as RefResult;
export const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

/** Runs `input` through the operator in chunks of the given sizes; optionally snapshot/restore after chunk `cut`. */
export async function runOp(
  op: Operator<Rec, Out>,
  input: Rec[],
  sizes: number[],
  cut = -1,
): Promise<{ out: Out[]; late: number[]; reasons: string[] }> {
  const h = harness();
  let stage: Stage<Rec, Out> = await open(h, op);
  const out: Out[] = [];
  let i = 0;
  let c = 0;
  while (i < input.length) {
    const n = Math.max(1, sizes[c % sizes.length]);
    out.push(...(await processChunk(stage, input.slice(i, i + n))));
    i += n;
    if (c === cut) {
      const state = decode(encode(stage.snapshot?.()));
      await stage.close?.();
      stage = await open(h, op);
      stage.restore?.(state);
    }
    c++;
  }
  out.push(...((await stage.end?.()) ?? []));
  await stage.close?.();
  return {
    out,
    late: h.dead.map((d) => (d.record as Rec).id),
    reasons: h.dead.map((d) => d.reason),
  };
}
