/**
 * @module The unit of flow (DESIGN §2): an array of records plus metadata.
 * Chunks, not records, cross every stage boundary, so per-record work never
 * pays per-record scheduling. A chunk with `barrier` set carries no records: it
 * is a checkpoint barrier travelling in-band behind the chunks it covers.
 */

/** A source position: plain msgpack-serialisable numbers/strings (e.g. `{ byte, line }`). */
export type SourceOffset = Readonly<Record<string, number | string>>;

/** A checkpoint barrier travelling through the stages. */
export interface Barrier {
  readonly id: number;
  /** Source offset after the last chunk this barrier covers. */
  readonly offset: SourceOffset | undefined;
  /** Final barrier at end of input. */
  readonly final: boolean;
  /** Operator snapshots collected as the barrier passes each stateful stage. */
  readonly snapshots: Record<string, unknown>;
}

export interface Chunk<A> {
  readonly records: ReadonlyArray<A>;
  /** Source sequence number of the chunk this one derives from. */
  readonly seq: number;
  /** Source offset of the first record, if the source is seekable. */
  readonly start?: SourceOffset;
  /** Source offset just after the last record. */
  readonly end?: SourceOffset;
  /** Estimated size in bytes (input bytes for file sources). */
  readonly bytes: number;
  /** Creation time (monotonic ms) at the source: for end-to-end latency. */
  readonly createdAt: number;
  readonly barrier?: Barrier;
}

/** A chunk with other records and the same metadata. */
export function withRecords<A, B>(chunk: Chunk<A>, records: ReadonlyArray<B>): Chunk<B> {
  return {
    records,
    seq: chunk.seq,
    start: chunk.start,
    end: chunk.end,
    bytes: chunk.bytes,
    createdAt: chunk.createdAt,
  };
}

/** Makes a chunk (for sources and tests). */
export function makeChunk<A>(
  records: ReadonlyArray<A>,
  meta: { seq: number; start?: SourceOffset; end?: SourceOffset; bytes?: number; createdAt?: number },
): Chunk<A> {
  return {
    records,
    seq: meta.seq,
    start: meta.start,
    end: meta.end,
    bytes: meta.bytes ?? 0,
    createdAt: meta.createdAt ?? 0,
  };
}
