/**
 * @module A scenario written the way a user writes one (in a project, import
 * from "sluice", "sluice/bench", "sluice/operators"… instead of ../../src):
 * click events generated in memory from a seed, deduplicated per session and
 * page, counted per page, with a plain-loop peer. `sluice bench` runs every
 * `benchmarks/scenarios/*.bench.ts` of the working directory with the
 * built-in scenarios; `sluice bench benchmarks/scenarios/sessions.bench.ts`
 * runs just this one.
 */
import { digestOf, scenario } from "../../src/bench/index.ts";
import { pipeline } from "../../src/index.ts";
import { aggregate, dedupe } from "../../src/operators/index.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { prng } from "../../src/testing/index.ts";

interface Click {
  readonly session: number;
  readonly page: string;
}

interface Data {
  readonly rows: number;
  readonly seed: number;
}

const PAGES = ["/", "/search", "/item", "/cart", "/checkout", "/help"];

function* clicks(d: Data): Generator<Click> {
  const rand = prng(d.seed);
  for (let i = 0; i < d.rows; i++) {
    yield {
      session: Math.floor(i / 20) + Math.floor(rand() * 3),
      page: PAGES[Math.floor(rand() * PAGES.length)],
    };
  }
}

/** Page counts as a digest, whatever the order. */
function pagesDigest(rows: Array<{ key: string; n: number }>): string {
  return digestOf([...rows].sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => ({ key: r.key, n: r.n })));
}

export default scenario<Data>({
  name: "sessions",
  description: "example user scenario: clicks → dedupe per session and page → count per page",
  sizes: { tiny: 5_000, small: 500_000, full: 2_000_000 },
  generate: ({ rows, seed }) => ({ rows, seed }),
  pipeline: (d, ctx) =>
    pipeline("bench-sessions")
      .from(iterable(() => clicks(d), { chunkSize: 2000 }))
      .via(
        dedupe((c: Click) => `${c.session}|${c.page}`),
        aggregate({ key: (c: Click) => c.page, aggregate: { n: "count" } }),
      )
      .to(ndjson(`${ctx.outDir}/pages.ndjson`)),
  measure: {
    async outcome(summary, _d, ctx) {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(`${ctx.outDir}/pages.ndjson`, "utf8");
      const rows = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { key: string; n: number });
      return { rowsIn: summary.rowsIn, rowsOut: rows.length, digest: pagesDigest(rows) };
    },
  },
  peers: {
    "plain-loop": async (d, ctx) => {
      const seen = new Set<string>();
      const pages = new Map<string, number>();
      let n = 0;
      for (const c of clicks(d)) {
        if ((++n & 8191) === 0) ctx.progress(n);
        const k = `${c.session}|${c.page}`;
        if (seen.has(k)) continue;
        seen.add(k);
        pages.set(c.page, (pages.get(c.page) ?? 0) + 1);
      }
      const rows = [...pages].map(([key, count]) => ({ key, n: count }));
      return { rowsIn: n, rowsOut: rows.length, digest: pagesDigest(rows) };
    },
  },
});
