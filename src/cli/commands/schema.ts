/**
 * @module `sluice schema FILE [--sample N] [--path $.items] [--sheet S]`: prints the zod schema
 * inferred from the first N records of a CSV, NDJSON/JSON Lines, JSON or Excel file, as TypeScript
 * to paste into a pipeline file and edit. The inference is the one `infer: true` validates with
 * (`sources/internal/infer.ts`), read by the sources' own parsers.
 */
import { SourceError } from "../../pipeline/errors.ts";
import { paths } from "../../runtime/fs.ts";
import { stdout } from "../../runtime/process.ts";
import { sampleExcel } from "../../sources/excel.ts";
import { DEFAULT_SAMPLE, inferSchema, schemaName, toTypeScript } from "../../sources/internal/infer.ts";
import { formatOf, JsonShapeProblem, sampleFile } from "../../sources/internal/sample.ts";
import { checkInputFile } from "../../sources/internal/validate.ts";
import { EXIT, UsageError } from "../errors.ts";

export interface SchemaFlags {
  readonly sample?: string;
  readonly path?: string;
  readonly sheet?: string;
  readonly delimiter?: string;
  readonly name?: string;
}

export async function schemaCommand(file: string, flags: SchemaFlags): Promise<number> {
  const n = flags.sample === undefined ? DEFAULT_SAMPLE : Number(flags.sample);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`schema: --sample "${flags.sample}" is not a positive whole number`);
  const excel = /\.xlsx$/i.test(file);
  const format = excel ? undefined : formatOf(file);
  if (!excel && !format)
    throw new UsageError(`schema: cannot tell the format of ${file}`, {
      hint: "Name a .csv, .tsv, .ndjson, .jsonl, .json or .xlsx file.",
    });
  if (flags.path !== undefined && format !== "json")
    throw new UsageError("schema: --path applies to .json files only");
  if (flags.sheet !== undefined && !excel)
    throw new UsageError("schema: --sheet applies to .xlsx files only");
  const abs = paths.resolve(file);
  await checkInputFile(excel ? "excel" : (format as string), abs);
  let records: unknown[];
  try {
    records = excel
      ? await sampleExcel(abs, { n, sheet: flags.sheet })
      : await sampleFile(abs, format!, { n, jsonPath: flags.path, delimiter: flags.delimiter });
  } catch (e) {
    if (e instanceof JsonShapeProblem)
      throw new SourceError(`schema: ${file}: ${e.message}`, {
        hint: "Point --path at the array, e.g. --path '$.items'.",
      });
    throw e;
  }
  const inferred = inferSchema(records, { text: format === "csv" });
  const args = `${file}${flags.path ? ` --path '${flags.path}'` : ""}${flags.sheet ? ` --sheet '${flags.sheet}'` : ""}`;
  stdout.write(toTypeScript(inferred, flags.name ?? schemaName(file), `\`sluice schema ${args}\``));
  return EXIT.ok;
}
