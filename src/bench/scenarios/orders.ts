/**
 * @module The orders workload shared by the CSV scenarios and their peers:
 * the record schema every implementation validates with, the per-record
 * transform and filter, and the aggregate whose digest the implementations
 * must agree on. Peers import these so that they differ from sluice only in
 * how they move records, not in what they compute.
 */
import { z } from "zod";
import { fs } from "../../runtime/fs.ts";
import { CsvParser } from "../../sources/internal/csv-parser.ts";
import { ordersCsv } from "../../testing/generate.ts";
import type { GenerateContext, Outcome } from "../scenario.ts";
import { digestOf } from "../scenario.ts";

/** One row of `orders.csv` after validation. */
export const OrderSchema = z.object({
  id: z.coerce.number().int().positive(),
  user: z.string().min(1),
  category: z.string().min(1),
  amount: z.coerce.number().nonnegative(),
  ts: z.iso.datetime(),
  note: z.string(),
});
export type Order = z.output<typeof OrderSchema>;

/** What the map step makes of an order. */
export interface Sale {
  readonly category: string;
  readonly user: string;
  /** Amount in integer cents, so sums are exact in every implementation and in SQL. */
  readonly cents: number;
  readonly hour: number;
}

export function toSale(o: Order): Sale {
  return {
    category: o.category,
    user: o.user,
    cents: Math.round(o.amount * 100),
    hour: Number(o.ts.slice(11, 13)),
  };
}

/** The filter step: test orders are dropped. */
export function isRealSale(s: Sale): boolean {
  return s.category !== "test";
}

/** One output row: per category, orders and revenue. */
export interface CategoryTotal {
  readonly key: string;
  readonly n: number;
  readonly cents: number;
}

/** The digest of a set of category totals, in any order. */
export function totalsDigest(rows: Iterable<CategoryTotal>): string {
  const sorted = [...rows]
    .map((r) => ({ key: String(r.key), n: Number(r.n), cents: Number(r.cents) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return digestOf(sorted);
}

/** Accumulates category totals (what peers use in place of sluice's `aggregate`). */
export class Totals {
  readonly #m = new Map<string, { n: number; cents: number }>();
  add(s: Sale): void {
    const t = this.#m.get(s.category);
    if (t) {
      t.n++;
      t.cents += s.cents;
    } else this.#m.set(s.category, { n: 1, cents: s.cents });
  }
  get size(): number {
    return this.#m.size;
  }
  rows(): CategoryTotal[] {
    return [...this.#m].map(([key, t]) => ({ key, n: t.n, cents: t.cents }));
  }
}

/** The key the journal scenario dedupes on: one order per user per hour. */
export function userHour(o: Order): string {
  return `${o.user}|${o.ts.slice(0, 13)}`;
}

/** The generated orders file and what it holds. */
export interface OrdersData {
  readonly file: string;
  readonly rows: number;
  /** Rows that fail validation (ragged, or an amount that is not a number). */
  readonly invalid: number;
  /** Digest of the totals a correct implementation produces (computed once, by a plain loop). */
  readonly expected?: string;
}

export interface OrdersOptions {
  /** One row in this many is malformed (default 500). */
  readonly badEvery?: number;
  /** Compute the expected totals, with or without the per-user-hour dedupe. */
  readonly reference?: "plain" | "user-hour";
}

/**
 * Writes `orders.csv` (the `sluice/testing` generator: ~60 bytes a row,
 * quoted fields with commas, quotes and newlines, some malformed rows) and,
 * if asked, the expected totals, both cached in the data directory.
 */
export async function generateOrders(ctx: GenerateContext, o: OrdersOptions = {}): Promise<OrdersData> {
  const badEvery = o.badEvery ?? 500;
  const file = await ctx.file(
    `orders-${badEvery}.csv`,
    ordersCsv({ rows: ctx.rows, seed: ctx.seed, badEvery }),
  );
  const invalid = Math.floor(ctx.rows / badEvery);
  if (!o.reference) return { file, rows: ctx.rows, invalid };
  const ref = await ctx.file(`expected-${badEvery}-${o.reference}.json`, referenceJson(file, o.reference));
  const expected = (JSON.parse(await fs.readText(ref)) as { digest: string }).digest;
  return { file, rows: ctx.rows, invalid, expected };
}

/** The reference: a plain loop over the file, as obviously correct as it gets. */
async function* referenceJson(file: string, variant: "plain" | "user-hour"): AsyncGenerator<string> {
  const parser = new CsvParser({ header: true });
  const totals = new Totals();
  const seen = new Set<string>();
  const take = (records: ReadonlyArray<Record<string, string>>) => {
    for (const r of records) {
      const v = OrderSchema.safeParse(r);
      if (!v.success) continue;
      if (variant === "user-hour") {
        const k = userHour(v.data);
        if (seen.has(k)) continue;
        seen.add(k);
      }
      const sale = toSale(v.data);
      if (isRealSale(sale)) totals.add(sale);
    }
  };
  for await (const buf of fs.read(file)) take(parser.push(buf).records);
  take(parser.finish().records);
  yield `${JSON.stringify({ digest: totalsDigest(totals.rows()) })}\n`;
}

/** Every implementation must read every row, reject exactly the malformed ones, and produce the expected totals. */
export function checkOrders(o: Outcome, d: OrdersData): string | undefined {
  if (o.rowsIn !== d.rows) return `read ${o.rowsIn} rows, expected ${d.rows}`;
  if (o.deadLettered !== undefined && o.deadLettered !== d.invalid) {
    return `rejected ${o.deadLettered} rows, expected ${d.invalid}`;
  }
  if (d.expected !== undefined && o.digest !== undefined && o.digest !== d.expected) {
    return `totals differ from the reference (digest ${o.digest}, expected ${d.expected})`;
  }
  return undefined;
}
