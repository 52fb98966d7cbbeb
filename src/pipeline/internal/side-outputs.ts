/**
 * @module Side outputs (`StageContext.sideOutput`): sinks a stage writes
 * beside its output — a window's `late` sink. They follow the main sink's
 * exactly-once protocol, with one difference: the main sink receives records
 * in stream order, but a side output is written by a stage upstream of it,
 * which may run ahead of the barrier the sink is committing. So what a stage
 * writes is buffered and cut as each checkpoint barrier passes the stage
 * (`cut`); when the run commits that checkpoint, each side output's writer
 * gets exactly the records cut at it and commits, and its token goes into the
 * checkpoint (`operatorState.$sides`). A resume opens each side sink with its
 * token (it reconciles as a main sink does); completion finishes them after
 * the main sink, and a failure or an interruption aborts them.
 *
 * Records wait in memory from the stage that wrote them to the next
 * checkpoint: they are the exceptions (late records), not the flow.
 */
import type { EventOf } from "../../events/schema.ts";
import type { Chunk } from "../chunk.ts";
import { ConfigError, describeError, SinkError } from "../errors.ts";
import {
  type CommitToken,
  type DeadLetterInput,
  isSink,
  type SideOutput,
  type Sink,
  type SinkWriter,
  type StageContext,
} from "../types.ts";
import type { StageMeter } from "./meter.ts";

/** One side output in the run summary. */
export interface SideOutputSummary {
  /** The stage that wrote it (`"3:window.tumbling"`). */
  readonly stage: string;
  /** Its name in the stage (`"late"`). */
  readonly name: string;
  /** The sink's name (`"ndjson(late.ndjson)"`). */
  readonly sink: string;
  /** Where the records went, as the sink reports it. */
  readonly target?: string;
  /** Records written to it (over the whole run, resumes included). */
  readonly rows: number;
}

/** What a checkpoint keeps of each side output (`operatorState.$sides[stage/name]`). */
interface SideState {
  readonly token: CommitToken;
  readonly rows: number;
}

interface Side {
  readonly key: string;
  readonly stage: string;
  readonly name: string;
  readonly sink: Sink<unknown>;
  readonly ctx: StageContext;
  readonly meter: StageMeter;
  /** Dead-letters a record of this side output, with the checkpoint being committed. */
  readonly letter: (item: DeadLetterInput) => void;
  /** Written since the last cut. */
  pending: unknown[];
  /** Cut at a barrier, waiting for its commit. */
  readonly cuts: Array<{ readonly id: number; readonly records: unknown[] }>;
  writer?: SinkWriter<unknown>;
  rows: number;
  /** Records its sink dead-lettered (each turned from side output into a dead letter). */
  lettered: number;
}

export class SideOutputs {
  readonly #sides: Side[] = [];
  #opened = false;

  /** Registers a side output of `stage` (from `StageContext.sideOutput`). */
  register<T>(
    ctx: StageContext,
    meter: StageMeter,
    name: string,
    sink: Sink<T>,
    letter: (item: DeadLetterInput) => void,
  ): SideOutput<T> {
    const where = `${ctx.stage}: side output ${JSON.stringify(name)}`;
    if (typeof name !== "string" || name.length === 0)
      throw new ConfigError(`${ctx.stage}: a side output needs a non-empty name`);
    if (!isSink(sink)) {
      throw new ConfigError(`${where} is not a sink`, {
        hint: 'Pass a sink, e.g. ndjson("out/late.ndjson"), csv(...) or duckdb({ table: ... }).',
      });
    }
    if (this.#opened) throw new ConfigError(`${where} was opened after the run started: open it in make()`);
    const key = `${ctx.stage}/${name}`;
    if (this.#sides.some((s) => s.key === key)) throw new ConfigError(`${where} is opened twice`);
    const side: Side = {
      key,
      stage: ctx.stage,
      name,
      sink: sink as Sink<unknown>,
      ctx,
      meter,
      letter,
      pending: [],
      cuts: [],
      rows: 0,
      lettered: 0,
    };
    this.#sides.push(side);
    return {
      write(record: T): void {
        side.pending.push(record);
        side.rows++;
        meter.side(1);
      },
    };
  }

  /** Whether `stage` has side outputs (only those stages need `cut` at barriers). */
  has(stage: string): boolean {
    return this.#sides.some((s) => s.stage === stage);
  }

  get size(): number {
    return this.#sides.length;
  }

  /** Checkpoint `id`'s barrier passed `stage`: what it wrote so far belongs to that checkpoint. */
  cut(stage: string, id: number): void {
    for (const s of this.#sides) {
      if (s.stage !== stage) continue;
      s.cuts.push({ id, records: s.pending });
      s.pending = [];
    }
  }

  /** Opens every side sink, each with its token from the checkpoint resumed from. */
  async open(cp: EventOf<"checkpoint"> | undefined): Promise<void> {
    this.#opened = true;
    const saved = (cp?.operatorState.$sides ?? {}) as Record<string, SideState | undefined>;
    for (const s of this.#sides) {
      const state = saved[s.key];
      s.rows = state?.rows ?? 0;
      // A record the side sink dead-letters (a value its table cannot hold) is dead, not side output.
      const deadLetter = (item: DeadLetterInput) => {
        s.rows--;
        s.lettered++;
        s.meter.side(-1);
        s.letter(item);
      };
      s.writer = await s.sink.open({ ...s.ctx, deadLetter, resumeToken: state?.token });
    }
  }

  /**
   * Writes what was cut at checkpoint `id` to each side sink and commits it:
   * the state for the checkpoint (each side output's token and rows).
   */
  async commit(id: number): Promise<Record<string, SideState> | undefined> {
    if (this.#sides.length === 0) return undefined;
    const state: Record<string, SideState> = {};
    for (const s of this.#sides) {
      const w = s.writer as SinkWriter<unknown>;
      // Taken at once: the stage keeps writing (and cutting later barriers) while this awaits.
      const later = s.cuts.findIndex((c) => c.id > id);
      const due = s.cuts.splice(0, later < 0 ? s.cuts.length : later);
      try {
        for (const c of due) if (c.records.length) await w.write(sideChunk(c.records, c.id));
        const token = await w.commit(id);
        // After the writes: what the sink dead-lettered of them is not side output.
        const rows = s.cuts.reduce((n, c) => n - c.records.length, s.rows - s.pending.length);
        state[s.key] = { token, rows };
      } catch (e) {
        throw new SinkError(
          `side output ${JSON.stringify(s.name)} of ${s.stage} (${s.sink.name}) could not commit checkpoint ${id}: ${describeError(e)}`,
          { cause: e },
        );
      }
    }
    return state;
  }

  /**
   * How many records of `stage`'s side outputs their sinks have dead-lettered in this process
   * (each turned from side output into a dead letter), for the stage's checkpoint cuts.
   */
  lettered(stage: string): number {
    let n = 0;
    for (const s of this.#sides) if (s.stage === stage) n += s.lettered;
    return n;
  }

  /** Finishes every side sink (after the main sink, when the run completed). */
  async close(): Promise<void> {
    for (const s of this.#sides) await s.writer?.close();
  }

  /** Stops every side sink without finishing: what was committed stays for a resume. */
  async abort(): Promise<void> {
    for (const s of this.#sides) await s.writer?.abort?.().catch(() => {});
  }

  summary(): SideOutputSummary[] {
    return this.#sides.map((s) => ({
      stage: s.stage,
      name: s.name,
      sink: s.sink.name,
      target: s.writer?.target,
      rows: s.rows,
    }));
  }
}

function sideChunk(records: unknown[], checkpoint: number): Chunk<unknown> {
  return { records, seq: checkpoint, bytes: 0, createdAt: 0 };
}
