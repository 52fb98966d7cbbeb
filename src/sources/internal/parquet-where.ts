/**
 * @module The `where` filter of the Parquet source, in the style hyparquet and MongoDB use:
 * `{ amount: { $gt: 100 }, category: { $in: ["a", "b"] } }`; several columns mean AND and a
 * plain value means `$eq`. The same object goes to hyparquet as its pruning filter (row groups
 * whose min/max statistics exclude it are never read) and is evaluated here on the decoded
 * column arrays, before any record object is built, so rows that do not match cost no
 * allocation.
 *
 * Semantics, as in MongoDB: a null (missing) value fails `$gt $gte $lt $lte`, matches
 * `$eq: null`, `$in: [null]` and `$ne` of any other value. An INT64 column compares with
 * numbers and bigints alike (`{ id: { $eq: 5 } }` matches `5n`); a timestamp column compares
 * with a `Date` (or epoch milliseconds).
 */
import { z } from "zod";

const Scalar = z.union([z.string(), z.number(), z.bigint(), z.boolean(), z.date(), z.null()]);
const Ops = z.strictObject(
  {
    $eq: Scalar.optional(),
    $ne: Scalar.optional(),
    $gt: Scalar.optional(),
    $gte: Scalar.optional(),
    $lt: Scalar.optional(),
    $lte: Scalar.optional(),
    $in: z.array(Scalar).optional(),
  },
  {
    error: (i) =>
      i.code === "unrecognized_keys"
        ? `unknown operator ${i.keys.join(", ")}: use $eq $ne $gt $gte $lt $lte $in`
        : undefined,
  },
);

/** `{ column: value | { $op: value } }`. */
export const WhereSchema = z.record(z.string().min(1), z.union([Scalar, Ops]));
export type Where = z.input<typeof WhereSchema>;
type Value = z.infer<typeof Scalar>;

/** Tests one decoded value. */
type Test = (v: unknown) => boolean;

const key = (v: unknown): unknown => (v instanceof Date ? v.getTime() : v);

function same(a: unknown, b: unknown): boolean {
  const x = key(a);
  const y = key(b);
  if (x === y) return true;
  // bigint and number compare by value (5n equals 5); nothing else is loose.
  if (typeof x === "bigint" && typeof y === "number") return Number.isInteger(y) && x === BigInt(y);
  if (typeof x === "number" && typeof y === "bigint") return Number.isInteger(x) && BigInt(x) === y;
  return false;
}

const isNull = (v: unknown) => v === null || v === undefined;

function test(op: string, target: Value | Value[]): Test {
  const t = key(target) as number;
  switch (op) {
    case "$eq":
      return isNull(target) ? isNull : (v) => same(v, target);
    case "$ne":
      return isNull(target) ? (v) => !isNull(v) : (v) => !same(v, target);
    case "$gt":
      return (v) => !isNull(v) && (key(v) as number) > t;
    case "$gte":
      return (v) => !isNull(v) && (key(v) as number) >= t;
    case "$lt":
      return (v) => !isNull(v) && (key(v) as number) < t;
    case "$lte":
      return (v) => !isNull(v) && (key(v) as number) <= t;
    default: {
      const list = target as Value[];
      const hasNull = list.some(isNull);
      const plain = new Set<unknown>(list.filter((x) => typeof x === "string" || typeof x === "boolean"));
      const rest = list.filter((x) => !isNull(x) && !plain.has(x));
      return (v) => (isNull(v) ? hasNull : plain.has(v) || rest.some((x) => same(v, x)));
    }
  }
}

/** One column's conditions (ANDed). */
export interface ColumnCondition {
  readonly column: string;
  readonly tests: ReadonlyArray<Test>;
}

/** The where object as per-column tests, and the filter object hyparquet prunes row groups with. */
export function compileWhere(where: Where | undefined): {
  conditions: ColumnCondition[];
  pruning: Record<string, Record<string, unknown>> | undefined;
} {
  if (!where || Object.keys(where).length === 0) return { conditions: [], pruning: undefined };
  const conditions: ColumnCondition[] = [];
  const pruning: Record<string, Record<string, unknown>> = {};
  for (const [column, cond] of Object.entries(where)) {
    const ops: Record<string, Value | Value[]> =
      cond !== null && typeof cond === "object" && !(cond instanceof Date)
        ? (cond as Record<string, Value>)
        : { $eq: cond as Value };
    const tests: Test[] = [];
    const prune: Record<string, unknown> = {};
    for (const [op, target] of Object.entries(ops)) {
      if (target === undefined) continue;
      tests.push(test(op, target));
      // hyparquet compares statistics with JS relational operators: Dates as epoch ms work
      // against timestamp statistics (Date objects) through valueOf.
      prune[op] = target;
    }
    conditions.push({ column, tests });
    pruning[column] = prune;
  }
  return { conditions, pruning };
}

/**
 * Indexes in `from..to` of the rows whose values pass every condition (`columns[k]` holds the
 * decoded values of `conditions[k].column`, indexed like the rows).
 */
export function selectRows(
  conditions: ReadonlyArray<ColumnCondition>,
  columns: ReadonlyArray<ArrayLike<unknown>>,
  from: number,
  to: number,
): number[] {
  let selected: number[] | undefined;
  for (let k = 0; k < conditions.length; k++) {
    const values = columns[k] as ArrayLike<unknown>;
    for (const t of (conditions[k] as ColumnCondition).tests) {
      const next: number[] = [];
      if (selected === undefined) {
        for (let i = from; i < to; i++) if (t(values[i])) next.push(i);
      } else {
        for (const i of selected) if (t(values[i])) next.push(i);
      }
      selected = next;
      if (selected.length === 0) return selected;
    }
  }
  if (selected) return selected;
  const all = new Array<number>(to - from);
  for (let i = from; i < to; i++) all[i - from] = i;
  return all;
}
