/**
 * @module zod building blocks for operator options (STYLE rule 3: the schema
 * is both the validation and the documentation). Durations and sizes accept
 * what users write (`"250ms"`, `"64MiB"`) and come out as numbers, and a bad
 * option becomes one `ConfigError` naming the operator and the field.
 */
import { z } from "zod";
import { parseComponentOptions } from "../../pipeline/internal/options.ts";
import { toBytes, toMillis } from "../../pipeline/units.ts";

const DURATION = /^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d)\s*$/;
const SIZE = /^\s*\d+(?:\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB)\s*$/i;

/** A duration (`"250ms"`, `"10m"` or milliseconds), parsed to milliseconds. */
export const DurationSchema = z
  .union([z.number().nonnegative(), z.string().regex(DURATION, 'a duration such as "250ms" or "10m"')])
  .transform((v) => toMillis(v))
  .describe('Milliseconds, or a number with a unit: "250ms", "10s", "5m", "1h", "1d".');

/** A size (`"64MiB"` or bytes), parsed to bytes. */
export const SizeSchema = z
  .union([z.number().nonnegative(), z.string().regex(SIZE, 'a size such as "64MiB"')])
  .transform((v) => toBytes(v))
  .describe('Bytes, or a number with a unit: "64KiB", "16MiB", "1GB".');

/** A function-valued option (zod cannot describe its parameters; the TypeScript type does). */
export function fn<F extends (...args: never[]) => unknown>(what: string) {
  return z.custom<F>((v) => typeof v === "function", { message: `${what} must be a function` });
}

/** Parses `options` with `schema`, or throws one `ConfigError` listing every bad or unknown field. */
export function parseOptions<S extends z.ZodType>(
  operator: string,
  schema: S,
  options: unknown,
): z.output<S> {
  return parseComponentOptions(`${operator}()`, schema, options);
}
