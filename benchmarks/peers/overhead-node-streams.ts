/**
 * @module engine-overhead peer: Node object-mode streams, one element per
 * write — `Readable.from` over the array of numbers, one Transform for the map, one for
 * the filter and a Writable that sums, joined by `stream/promises.pipeline`
 * (how the Node docs compose them). Bun and Deno run it through their
 * `node:stream` compatibility layers.
 */
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { OverheadWork } from "./overhead-work.ts";

export default async function nodeStreams(data: readonly number[], w: OverheadWork): Promise<number> {
  let sum = 0;
  await pipeline(
    Readable.from(data, { objectMode: true }),
    new Transform({
      objectMode: true,
      transform(n: number, _enc, done) {
        done(null, w.map(n));
      },
    }),
    new Transform({
      objectMode: true,
      transform(n: number, _enc, done) {
        if (w.keep(n)) done(null, n);
        else done();
      },
    }),
    new Writable({
      objectMode: true,
      write(n: number, _enc, done) {
        sum += n;
        done();
      },
    }),
  );
  return sum;
}
