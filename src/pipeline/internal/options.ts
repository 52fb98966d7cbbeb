/**
 * @module Options checking shared by every source, operator and sink. An
 * option a component does not know is an error, never ignored: a typo in a
 * pipeline file (`concurency: 4`, an option of a later version) must not
 * quietly change what the pipeline means. Components with a zod schema parse
 * it with `parseComponentOptions` (the schema is `.strict()`; the allowed
 * names come from its shape); components without one call
 * `rejectUnknownOptions` with their option names.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";

const list = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");

function unknownError(
  component: string,
  unknown: readonly string[],
  allowed: readonly string[],
): ConfigError {
  return new ConfigError(`${component}: unknown option${unknown.length > 1 ? "s" : ""} ${list(unknown)}`, {
    hint: `Allowed options: ${allowed.length ? allowed.join(", ") : "none"}. Check the spelling; sluice refuses options it does not know rather than ignore them.`,
  });
}

/** Throws a `ConfigError` when `options` is not an object or has a key outside `allowed`. */
export function rejectUnknownOptions(component: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigError(`${component}: options must be an object, got ${describe(options)}`, {
      hint: `Pass { ${allowed.join(", ")} } (each optional unless documented otherwise).`,
    });
  }
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length) throw unknownError(component, unknown, allowed);
}

/** The option names of an object schema (through refinements and transforms). */
export function optionNames(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return optionNames(schema.in as z.ZodType);
  return [];
}

/**
 * Parses `options` with a (strict) object schema, or throws one `ConfigError`
 * naming every bad or unknown option; the hint lists the allowed ones.
 */
export function parseComponentOptions<S extends z.ZodType>(
  component: string,
  schema: S,
  options: unknown,
): z.output<S> {
  const allowed = optionNames(schema);
  rejectUnknownOptions(component, options, allowed);
  const r = schema.safeParse(options ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`).join("; ");
  throw new ConfigError(`${component}: invalid options: ${problems}`, {
    hint: `Allowed options: ${allowed.join(", ")}. See the documentation of ${component} for their values.`,
  });
}

function describe(v: unknown): string {
  return Array.isArray(v) ? "an array" : v === null ? "null" : `a ${typeof v}`;
}
