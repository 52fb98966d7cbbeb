/**
 * @module Console sink: records as JSON lines on standard output. At-least-once
 * (a resumed run may print records again).
 */

import { safeJson } from "../pipeline/internal/dead-letter.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import { type Sink, SinkTypeId } from "../pipeline/types.ts";
import { stdout } from "../runtime/process.ts";

/**
 * Prints each record as one JSON line.
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable([{ a: 1 }])).to(console());
 * ```
 */
export function console<A = unknown>(options: { format?: (record: A) => string } = {}): Sink<A> {
  rejectUnknownOptions("console()", options, ["format"]);
  const fmt = options.format ?? ((r: A) => safeJson(r));
  return {
    [SinkTypeId]: true,
    name: "console()",
    delivery: "at-least-once",
    async open() {
      return {
        target: "stdout",
        write(chunk) {
          let s = "";
          for (const r of chunk.records) s += `${fmt(r)}\n`;
          stdout.write(s);
        },
        commit: (id) => id,
        async close() {},
      };
    },
  };
}
