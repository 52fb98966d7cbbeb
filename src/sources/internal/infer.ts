/**
 * @module Schema inference from a sample of records: one module behind `csv/ndjson/json(path,
 * { infer: true })` (which validate every record with the inferred zod schema) and `sluice schema
 * FILE` (which prints the same schema as TypeScript to paste and edit), so the two cannot differ.
 *
 * Each field gets a kind from its sampled values: integer, number, boolean, date, string, object
 * (JSON: its own fields), array, or unknown when the kinds disagree. Text sources (CSV) see only
 * strings: a field is an integer when every non-empty value is one (a leading zero, as in `007`,
 * keeps it a string), a boolean for true/false in any case, a date for ISO 8601 dates and times;
 * an empty field is null, so a field with one in the sample is `.nullable()` and one without
 * rejects it later. JSON values keep their type; a string is a date when it is ISO 8601; `null`
 * makes the field `.nullable()`; a key missing from some records makes it `.optional()`, and
 * objects keep keys the sample did not show (`z.looseObject`).
 */
import { z } from "zod";
import { ConfigError } from "../../pipeline/errors.ts";

export type FieldKind = "integer" | "number" | "boolean" | "date" | "string" | "object" | "array" | "unknown";

export interface FieldInfo {
  readonly name: string;
  /** `undefined`: only nulls (or empty fields) were seen. */
  readonly kind: FieldKind | undefined;
  readonly nullable: boolean;
  readonly optional: boolean;
  /** Dates were `Date` values (Excel), not ISO strings. */
  readonly native?: boolean;
  /** The fields of an object kind. */
  readonly fields?: readonly FieldInfo[];
}

export interface InferredSchema {
  readonly fields: readonly FieldInfo[];
  /** Records the inference saw. */
  readonly sampled: number;
  /** Values are text (CSV): the schema coerces. */
  readonly text: boolean;
}

const INTEGER = /^[+-]?(0|[1-9]\d*)$/;
const NUMBER = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
const LEADING_ZERO = /^[+-]?0\d/;
const BOOLEAN = /^(true|false)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function isDate(s: string): boolean {
  return ISO_DATE.test(s) && !Number.isNaN(Date.parse(s));
}

function kindOfText(s: string): FieldKind {
  if (LEADING_ZERO.test(s)) return "string";
  if (INTEGER.test(s)) return Number.isSafeInteger(Number(s)) ? "integer" : "number";
  if (NUMBER.test(s)) return "number";
  if (BOOLEAN.test(s)) return "boolean";
  if (isDate(s)) return "date";
  return "string";
}

function kindOfValue(v: unknown): FieldKind {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? "integer" : "number";
    case "boolean":
      return "boolean";
    case "string":
      return isDate(v) ? "date" : "string";
    case "object":
      return v instanceof Date ? "date" : Array.isArray(v) ? "array" : "object";
    default:
      return "unknown";
  }
}

function merge(a: FieldKind | undefined, b: FieldKind, text: boolean): FieldKind {
  if (a === undefined || a === b) return b;
  const numeric = (k: FieldKind) => k === "integer" || k === "number";
  if (numeric(a) && numeric(b)) return "number";
  if (text || ((a === "date" || a === "string") && (b === "date" || b === "string"))) return "string";
  return "unknown";
}

/** Infers the fields of `records` (objects; other values are not counted). */
export function inferSchema(records: readonly unknown[], options: { text: boolean }): InferredSchema {
  const objects = records.filter(
    (r): r is Record<string, unknown> => typeof r === "object" && r !== null && !Array.isArray(r),
  );
  return { fields: inferFields(objects, options.text), sampled: records.length, text: options.text };
}

function inferFields(records: readonly Record<string, unknown>[], text: boolean): FieldInfo[] {
  const order: string[] = [];
  const seen = new Map<
    string,
    {
      kind?: FieldKind;
      nullable: boolean;
      native: boolean;
      present: number;
      objects: Record<string, unknown>[];
    }
  >();
  for (const r of records) {
    for (const [name, v] of Object.entries(r)) {
      let f = seen.get(name);
      if (!f) {
        f = { nullable: false, native: false, present: 0, objects: [] };
        seen.set(name, f);
        order.push(name);
      }
      f.present++;
      if (v === null || v === undefined || (text && v === "")) {
        f.nullable = true;
        continue;
      }
      const k = text && typeof v === "string" ? kindOfText(v) : kindOfValue(v);
      f.kind = merge(f.kind, k, text);
      if (k === "object") f.objects.push(v as Record<string, unknown>);
      if (v instanceof Date) f.native = true;
    }
  }
  return order.map((name) => {
    const f = seen.get(name)!;
    const info: FieldInfo = {
      name,
      kind: f.kind,
      nullable: f.nullable,
      optional: f.present < records.length,
      ...(f.native && f.kind === "date" ? { native: true } : {}),
    };
    return f.kind === "object" ? { ...info, fields: inferFields(f.objects, text) } : info;
  });
}

/** The zod schema for `s`: what `infer: true` validates with. */
export function toZod(s: InferredSchema): z.ZodType {
  return objectOf(s.fields, s.text);
}

function objectOf(fields: readonly FieldInfo[], text: boolean): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const f of fields) shape[f.name] = fieldZod(f, text);
  return text ? z.object(shape) : z.looseObject(shape);
}

/** An empty CSV field is null, for a `.nullable()` field (other fields reject an empty one). */
const blank = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === "" ? null : v), t);

function baseZod(f: FieldInfo, text: boolean): z.ZodType {
  switch (f.kind) {
    case "integer":
      return text ? z.string().min(1).pipe(z.coerce.number<string>().int()) : z.number().int();
    case "number":
      return text ? z.string().min(1).pipe(z.coerce.number<string>()) : z.number();
    case "boolean":
      return text ? z.stringbool() : z.boolean();
    case "date":
      return text ? z.coerce.date() : f.native ? z.date() : z.string().pipe(z.coerce.date<string>());
    case "string":
      return z.string();
    case "object":
      return objectOf(f.fields ?? [], text);
    case "array":
      return z.array(z.unknown());
    default:
      return z.unknown();
  }
}

function fieldZod(f: FieldInfo, text: boolean): z.ZodType {
  let t = baseZod(f, text);
  if (f.nullable && f.kind !== undefined && f.kind !== "unknown" && !(text && f.kind === "string")) {
    t = t.nullable();
    if (text) t = blank(t);
  }
  if (f.optional && f.kind !== undefined && f.kind !== "unknown") t = t.optional();
  return t;
}

function baseText(f: FieldInfo, text: boolean, indent: string): string {
  switch (f.kind) {
    case "integer":
      return text ? "z.string().min(1).pipe(z.coerce.number<string>().int())" : "z.number().int()";
    case "number":
      return text ? "z.string().min(1).pipe(z.coerce.number<string>())" : "z.number()";
    case "boolean":
      return text ? "z.stringbool()" : "z.boolean()";
    case "date":
      return text ? "z.coerce.date()" : f.native ? "z.date()" : "z.string().pipe(z.coerce.date<string>())";
    case "string":
      return "z.string()";
    case "object":
      return objectText(f.fields ?? [], text, indent);
    case "array":
      return "z.array(z.unknown())";
    default:
      return "z.unknown()";
  }
}

function fieldText(f: FieldInfo, text: boolean, indent: string): string {
  let t = baseText(f, text, indent);
  if (f.nullable && f.kind !== undefined && f.kind !== "unknown" && !(text && f.kind === "string")) {
    t += ".nullable()";
    if (text) t = `blank(${t})`;
  }
  if (f.optional && f.kind !== undefined && f.kind !== "unknown") t += ".optional()";
  return t;
}

function objectText(fields: readonly FieldInfo[], text: boolean, indent: string): string {
  const inner = `${indent}  `;
  const lines = fields.map((f) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(f.name) ? f.name : JSON.stringify(f.name);
    const note = f.kind === undefined ? " // only empty values in the sample" : "";
    return `${inner}${key}: ${fieldText(f, text, inner)},${note}`;
  });
  return `${text ? "z.object" : "z.looseObject"}({\n${lines.join("\n")}\n${indent}})`;
}

/** A TypeScript name for a file: `data/orders-2024.csv` → `Orders2024`. */
export function schemaName(file: string): string {
  const base = (file.split(/[\\/]/).pop() ?? "Record").replace(/\.[^.]*$/, "");
  const words = base.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z_]/.test(name) ? name : `Record${name}`;
}

/** `s` as TypeScript a user can paste into a pipeline file. `by` says what inferred it. */
export function toTypeScript(s: InferredSchema, name: string, by: string): string {
  const head = [
    `// Inferred by ${by} from the first ${s.sampled} record${s.sampled === 1 ? "" : "s"} (the sample). Edit freely.`,
    `import { z } from "zod";`,
  ];
  if (s.text && s.fields.some((f) => f.nullable && f.kind !== undefined && f.kind !== "string")) {
    head.push(
      "",
      "/** CSV fields are text: an empty field is read as null (for the `.nullable()` fields). */",
      'const blank = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === "" ? null : v), t);',
    );
  }
  return `${head.join("\n")}\n\nexport const ${name} = ${objectText(s.fields, s.text, "")};\n`;
}

/** Rows sampled by `infer: true` and `sluice schema` unless told otherwise. */
export const DEFAULT_SAMPLE = 1000;

/** The `infer` option of the file sources: `true`, or `{ sample: N }` rows to look at. */
export const InferOption = z
  .union([z.boolean(), z.object({ sample: z.number().int().positive() }).strict()])
  .default(false);

/** What a source does with its `infer` option: `undefined` when it does not infer. */
export function inferSpec(
  component: string,
  infer: z.output<typeof InferOption>,
  schema: unknown,
  text: boolean,
): { sample: number; text: boolean } | undefined {
  if (infer === false) return undefined;
  if (schema !== undefined)
    throw new ConfigError(`${component}: give either schema or infer, not both`, {
      hint: "`infer: true` builds a schema from the first rows; print it with `sluice schema FILE`, edit it and pass it as `schema`.",
    });
  return { sample: infer === true ? DEFAULT_SAMPLE : infer.sample, text };
}
