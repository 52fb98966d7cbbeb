/**
 * @module What every source with a record schema shares: validate a batch of records with a zod
 * schema (given, or inferred at open), send each failure to the dead letter with its position,
 * raw text and the issues as the reason, and check the input file before any work.
 */
import type { z } from "zod";
import type { Position } from "../../events/schema.ts";
import { SourceError } from "../../pipeline/errors.ts";
import type { SourceContext } from "../../pipeline/types.ts";
import { fs } from "../../runtime/fs.ts";

/** The dead-letter reason for a record that fails its schema. */
export function schemaReason(error: z.ZodError): string {
  return `schema: ${error.issues.map((x) => `${x.path.join(".") || "(record)"}: ${x.message}`).join("; ")}`;
}

/**
 * The records that pass `schema` (as it outputs them); the others go to the dead letter, placed
 * by `where(i)`. Without a schema the records are returned as they are.
 */
export function validateRecords<A>(
  records: readonly unknown[],
  schema: z.ZodType<A> | undefined,
  ctx: Pick<SourceContext, "deadLetter">,
  where: (i: number) => { position: Position; raw: string },
): A[] {
  if (!schema) return records as A[];
  const out: A[] = [];
  for (let i = 0; i < records.length; i++) {
    const res = schema.safeParse(records[i]);
    if (res.success) out.push(res.data);
    else {
      const { position, raw } = where(i);
      ctx.deadLetter({ reason: schemaReason(res.error), raw, record: records[i], position });
    }
  }
  return out;
}

/** Checks that `path` is a readable regular file, with errors that say what to do. */
export async function checkInputFile(kind: string, path: string): Promise<void> {
  const info = await fs.stat(path);
  if (!info) {
    throw new SourceError(`${kind} source: input file not found: ${path}`, {
      hint: "Check the path (relative paths are resolved from the working directory).",
    });
  }
  if (!info.isFile) throw new SourceError(`${kind} source: not a regular file: ${path}`);
  if (!(await fs.canRead(path))) {
    throw new SourceError(`${kind} source: cannot read ${path} (permission denied)`, {
      hint: "Make the file readable by this user.",
    });
  }
}
