/**
 * @module A sink that drops what it gets (for scenarios whose result is a
 * figure computed on the way, not a file).
 */
import { type Sink, SinkTypeId } from "../../pipeline/types.ts";

export function discard<A>(): Sink<A> {
  return {
    [SinkTypeId]: true,
    name: "discard()",
    delivery: "at-least-once",
    async open() {
      return { write() {}, commit: (id: number) => id, async close() {} };
    },
  };
}
