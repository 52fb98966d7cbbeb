/**
 * @module The source of a redrive: the planned dead letters, one chunk each,
 * in plan order. A chunk's sequence number is the letter's plan index (the
 * stages' dead letters carry it as `position.chunk`, which is how the ledger
 * knows which letter failed again), its `start.$entry` the stage it enters at
 * (`gate.ts`), its `end` the next plan index (the offset a resumed redrive
 * continues from). A source-stage letter is parsed again from its raw input
 * by the fixed pipeline's source (`Source.reparse`); what still fails goes to
 * the redrive's dead letter at the source stage. A letter that cannot be
 * redriven at all (no raw input, input cut in the dead letter, a stage the
 * fixed pipeline no longer has) goes back to the dead letter saying why.
 */
import * as Stream from "effect/Stream";
import type { Chunk, SourceOffset } from "../pipeline/chunk.ts";
import { describeError, SourceError } from "../pipeline/errors.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import type { DeadLetterEvent } from "./letters.ts";

/** A planned letter and where it enters: a stage index (0: the source re-parses it) or why it cannot. */
export interface Entry {
  readonly event: DeadLetterEvent;
  readonly entry: number | string;
}

const CUT = /…\[\d+ bytes cut\]$/;

export function redriveSource(
  original: Source<unknown>,
  of: string,
  entries: readonly Entry[],
): Source<unknown> {
  return {
    [SourceTypeId]: true,
    name: `redrive(${of})`,
    async size() {
      return undefined;
    },
    open(ctx: SourceContext): Stream.Stream<Chunk<unknown>, SourceError> {
      return Stream.fromAsyncIterable(read(original, entries, ctx), (e) =>
        e instanceof SourceError ? e : new SourceError(`redrive of ${of}: ${describeError(e)}`, { cause: e }),
      );
    },
  };
}

async function* read(
  original: Source<unknown>,
  entries: readonly Entry[],
  ctx: SourceContext,
): AsyncGenerator<Chunk<unknown>> {
  const from = ctx.resumeFrom?.n;
  let bytes = 0;
  for (let i = typeof from === "number" ? from : 0; i < entries.length; i++) {
    const { event, entry } = entries[i];
    const position = { ...event.position, chunk: i };
    const again = (why: string) =>
      ctx.deadLetter({
        stage: event.stage,
        reason: `cannot redrive: ${why}`,
        error: event.error,
        attempts: 0,
        position,
        raw: event.raw,
        record: event.record,
      });
    let records: ReadonlyArray<unknown> = [];
    if (typeof entry === "string") again(entry);
    else if (entry === 0) {
      if (event.raw === undefined) again("the dead letter holds no raw input to parse again");
      else if (CUT.test(event.raw)) again("its raw input was cut in the dead letter (records over 16 KiB)");
      else if (!original.reparse) again(`the source ${original.name} cannot parse a record again`);
      else {
        const r = await original.reparse(event.raw, event.position, ctx);
        for (const f of r.failures) ctx.deadLetter({ ...f, position: { ...f.position, chunk: i } });
        records = r.records;
        bytes += event.raw.length;
      }
    } else if (event.record === undefined) again("the dead letter holds no record to run again");
    else records = [event.record];
    const start: Record<string, number | string> = { $entry: typeof entry === "number" ? entry : 0 };
    if (event.position.file !== undefined) start.file = event.position.file;
    if (event.position.byteOffset !== undefined) start.byte = event.position.byteOffset;
    ctx.reportRead(bytes);
    yield {
      records,
      seq: i,
      start: start as SourceOffset,
      end: { n: i + 1 },
      bytes: event.raw?.length ?? 0,
      createdAt: ctx.clock.monotonic(),
    };
  }
}
