// Conformance: NDJSON → chunk → mapAsync → dedupe → rx → aggregate → CSV, with bad lines.
import { mkdirSync, writeFileSync } from "node:fs";
import { bufferCount, mergeMap, map as rxMap } from "rxjs";
import { pipeline } from "sluice";
import { aggregate, chunk, dedupe, mapAsync, rx } from "sluice/operators";
import { csv } from "sluice/sinks";
import { ndjson } from "sluice/sources";
import { prng } from "sluice/testing";

const rand = prng(5);
const lines: string[] = [];
for (let i = 0; i < 12_000; i++) {
  if (i % 1500 === 7) lines.push(`{"broken": ${i}`);
  else
    lines.push(
      JSON.stringify({
        id: Math.floor(rand() * 9000),
        kind: ["click", "view", "buy"][i % 3],
        ms: Math.floor(rand() * 900),
      }),
    );
}
mkdirSync("data", { recursive: true });
writeFileSync("data/events.ndjson", `${lines.join("\n")}\n`);

type Ev = { id: number; kind: string; ms: number };

export default pipeline("conformance-events", { checkpoint: { rows: 2000 } })
  .from(ndjson<Ev>("data/events.ndjson", { bufferSize: "16KiB" }))
  .via(
    chunk({ rows: 700 }),
    mapAsync(async (e: Ev) => ({ ...e, slow: e.ms > 500 }), { concurrency: 32 }),
    dedupe((e) => e.id),
    rx<Ev & { slow: boolean }, Ev & { slow: boolean }>((o) =>
      o.pipe(
        bufferCount(10),
        mergeMap((xs) => xs),
        rxMap((e) => e),
      ),
    ),
    aggregate({
      key: (e) => `${e.kind}:${e.slow}`,
      aggregate: { n: "count", total: ["sum", "ms"], hi: ["max", "ms"] },
    }),
  )
  .to(csv("out/events.csv"));
