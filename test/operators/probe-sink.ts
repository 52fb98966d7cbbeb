/**
 * Test helper: a collecting sink that also records, at each checkpoint commit,
 * how many records it had received — so a test can check that a barrier left
 * a stage after exactly the records before it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Chunk } from "../../src/pipeline/chunk.ts";
import { type Sink, SinkTypeId } from "../../src/pipeline/types.ts";

export interface ProbeSink<A> extends Sink<A> {
  readonly records: A[];
  readonly chunks: A[][];
  /** Checkpoint ids committed, in order. */
  readonly commits: number[];
  /** `records.length` at each commit. */
  readonly cuts: number[];
}

export function probeSink<A>(): ProbeSink<A> {
  const records: A[] = [];
  const chunks: A[][] = [];
  const commits: number[] = [];
  const cuts: number[] = [];
  return {
    [SinkTypeId]: true,
    name: "probe()",
    delivery: "at-least-once",
    records,
    chunks,
    commits,
    cuts,
    async open() {
      return {
        write(chunk: Chunk<A>) {
          chunks.push([...chunk.records]);
          for (const r of chunk.records) records.push(r);
        },
        commit(id: number) {
          commits.push(id);
          cuts.push(records.length);
          return id;
        },
        async close() {},
      };
    },
  };
}

/** A temporary state directory for runs; call the returned function to remove it. */
export function tempHome(prefix: string): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
