// The state benchmark's memory pipeline: $STATE_KEYS distinct keys (generated, no input file) through
// `dedupe`, counted by a sink that keeps nothing, checkpoints every 250 ms: peak RSS against the
// number of distinct keys.
import process from "node:process";
import { pipeline, type Sink, SinkTypeId } from "sluice";
import { dedupe } from "sluice/operators";
import { iterable } from "sluice/sources";

const N = Number(process.env.STATE_KEYS ?? 1_000_000);

function* keys(): Generator<{ id: string }> {
  for (let i = 0; i < N; i++) yield { id: `order-${i}` };
}

const count: Sink<{ id: string }> = {
  [SinkTypeId]: true,
  name: "count",
  delivery: "at-least-once",
  async open() {
    let rows = 0;
    return {
      target: "count",
      write(chunk) {
        rows += chunk.records.length;
      },
      commit: () => rows,
      async close() {
        process.stdout.write(`${JSON.stringify({ rows })}\n`);
      },
    };
  },
};

export default pipeline("state-keys", { checkpoint: { every: "250ms" } })
  .from(iterable(keys, { chunkSize: 4096 }))
  .via(dedupe((r: { id: string }) => r.id, { maxKeys: 20_000_000 }))
  .to(count);
