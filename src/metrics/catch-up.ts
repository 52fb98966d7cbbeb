/**
 * @module Journal catch-up (DESIGN §4): the journal is the truth and the
 * DuckDB store a projection of it. Runs never write the store; whatever reads
 * it (`sluice metrics`, `sql`, `serve`, `bench`, the HTTP API) first calls
 * `catchUp`, which ingests every journal under the state directory that the
 * store has not fully taken, whatever the pipeline, live runs included.
 *
 * It is idempotent by (run, seq): the store skips events at or below a run's
 * high-water mark. So that a catch-up does not re-read what it already took,
 * it keeps a mark per run in `_sluice_journal_marks`: the journal's size
 * when last read, where reading stopped and the sequence number reached. A
 * run whose journal has the recorded size is skipped after one directory
 * listing; a grown one is read from where reading stopped. A mark is written
 * after the events it covers are committed, so a crash in between only
 * re-reads (and the store skips) those events.
 *
 * A journal that cannot be read whole does not stop the others: damaged
 * bytes are skipped (their records are lost; the rest of the run is loaded)
 * and a journal that cannot be read at all (written by a newer sluice,
 * unreadable) is left out; both are reported through `onWarning`, and the
 * latter is tried again by the next catch-up.
 */
import type { JournalPosition } from "../journal/journal.ts";
import { JOURNAL_DIR, listRunRefs, type RunRef, readRunEventBatches } from "../journal/runs.ts";
import { requireStateDirectory } from "../pipeline/internal/state-dir.ts";
import { stateHome } from "../pipeline/run.ts";
import type { Clock } from "../runtime/clock.ts";
import { systemClock } from "../runtime/clock.ts";
import { fs, isNotFound, paths } from "../runtime/fs.ts";
import { MetricsLockedError } from "./errors.ts";
import { JOURNAL_MARKS as MARKS, PRUNED_SEGMENT } from "./internal/schema.ts";
import { dropSupersededLetters } from "./internal/superseded.ts";
import { TABLES } from "./internal/tables.ts";
import type { IngestEvent, MetricsStore } from "./store.ts";

export interface CatchUpProgress {
  readonly runs: number;
  readonly runsDone: number;
  readonly events: number;
  readonly elapsedMs: number;
}

export interface CatchUpOptions {
  /** Called after each run that had something to read, and at least every 250 ms of reading. */
  readonly onProgress?: (p: CatchUpProgress) => void;
  /** Called for each journal, or part of one, that could not be loaded (the others are). */
  readonly onWarning?: (message: string) => void;
  readonly clock?: Clock;
}

export interface CatchUpResult {
  /** Runs found under the state directory. */
  readonly runs: number;
  /** Runs whose journals had events the store had not read. */
  readonly read: number;
  /** Events read from journals (the store skips those it already holds). */
  readonly events: number;
  readonly accepted: number;
  /** Runs left out because their journal could not be read (see `onWarning`). */
  readonly skipped: number;
  readonly elapsedMs: number;
}

interface Mark {
  readonly bytes: number;
  readonly segment: number;
  readonly offset: number;
  readonly seq: number;
}

/**
 * Kinds read back without the whole event schema check (see
 * `readRunEventBatches`): those with typed tables, whose rows take their
 * declared fields by name, so the rows are the same as from the parsed
 * event. Not `checkpoint` (its `stage_totals` column is the JSON of objects
 * the schema rebuilds) nor the kinds of `events_other` (whole payloads):
 * those are checked as before.
 */
export const TRUSTED_KINDS: ReadonlySet<string> = new Set(
  TABLES.filter((t) => t.table !== "events_other" && t.table !== "checkpoints").flatMap((t) => t.kinds),
);

/** Total bytes of a run's journal segments (its size, for "has it grown?"). */
async function journalBytes(runDir: string): Promise<number> {
  const dir = paths.join(runDir, JOURNAL_DIR);
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    const info = await fs.stat(paths.join(dir, name));
    if (info?.isFile) total += info.size;
  }
  return total;
}

async function readMarks(store: MetricsStore): Promise<Map<string, Mark>> {
  return store.withWriter("catchUp", async (conn) => {
    await conn.run(
      `CREATE TABLE IF NOT EXISTS ${MARKS} (run_id VARCHAR PRIMARY KEY, bytes BIGINT, segment BIGINT, "offset" BIGINT, seq BIGINT)`,
    );
    const rows = await conn.all(`SELECT run_id, bytes, segment, "offset", seq FROM ${MARKS}`);
    return new Map(
      rows.map((r) => [
        String(r.run_id),
        { bytes: Number(r.bytes), segment: Number(r.segment), offset: Number(r.offset), seq: Number(r.seq) },
      ]),
    );
  });
}

async function writeMarks(store: MetricsStore, marks: ReadonlyMap<string, Mark>): Promise<void> {
  await store.withWriter("catchUp", async (conn) => {
    await conn.run("BEGIN TRANSACTION");
    try {
      for (const [runId, m] of marks)
        await conn.run(`INSERT OR REPLACE INTO ${MARKS} VALUES ($run, $bytes, $segment, $offset, $seq)`, {
          run: runId,
          bytes: m.bytes,
          segment: m.segment,
          offset: m.offset,
          seq: m.seq,
        });
      await conn.run("COMMIT");
    } catch (e) {
      await conn.run("ROLLBACK").catch(() => {});
      throw e;
    }
  });
}

async function forgetMark(store: MetricsStore, runId: string): Promise<void> {
  await store.withWriter("catchUp", (conn) =>
    conn.run(`DELETE FROM ${MARKS} WHERE run_id = $run`, { run: runId }),
  );
}

/**
 * Ingests what the store has not read of every journal under `home`.
 *
 * @example
 * ```ts
 * const store = await openMetricsStore(home);
 * await catchUp(store, home, { onProgress: (p) => console.error(`${p.runsDone}/${p.runs} runs`) });
 * ```
 */
export async function catchUp(
  store: MetricsStore,
  home: string,
  options: CatchUpOptions = {},
): Promise<CatchUpResult> {
  const clock = options.clock ?? systemClock;
  const t0 = clock.monotonic();
  const refs = await listRunRefs(home, undefined, {
    onUnreadable: (e) =>
      options.onWarning?.(`${e.message}: its runs are not in the metrics store (the others are). ${e.hint}`),
  });
  const marks = await readMarks(store);
  let events = 0;
  let lastReport = t0;
  const report = (runsDone: number) => {
    lastReport = clock.monotonic();
    options.onProgress?.({ runs: refs.length, runsDone, events, elapsedMs: lastReport - t0 });
  };
  // Which runs have something new, and from where to read them.
  let skipped = 0;
  const warn = (ref: RunRef, message: string) =>
    options.onWarning?.(`run ${ref.runId} of pipeline ${ref.pipeline}: ${message}`);
  const todo: Array<{ ref: RunRef; mark: Mark | undefined; bytes: number }> = [];
  for (const ref of refs) {
    const mark = marks.get(ref.runId);
    let bytes: number;
    try {
      bytes = await journalBytes(ref.runDir);
    } catch (e) {
      // Gone since it was listed: nothing to read. Unreadable: said, and tried again next time.
      if (!isNotFound(e)) {
        skipped++;
        warn(
          ref,
          `not loaded into the metrics store (the other runs are; the next catch-up tries again): ${describe(e)}`,
        );
      }
      continue;
    }
    if (!(mark && mark.bytes === bytes)) todo.push({ ref, mark, bytes });
  }
  // One ingest for all of them (one batch, few commits), each event numbered by its run.
  const reached = new Map<string, Mark>();
  let runsDone = refs.length - todo.length;
  async function* all(): AsyncGenerator<IngestEvent[]> {
    for (const { ref, mark, bytes } of todo) {
      // A pruned run's store rows are gone: when it grew (it was resumed), all of it is loaded again.
      const from = mark && mark.segment !== PRUNED_SEGMENT ? mark : undefined;
      let after: JournalPosition | undefined = from
        ? { segment: from.segment, offset: from.offset }
        : undefined;
      let seq = from?.seq ?? 0;
      const onCorruption = (e: Error) =>
        warn(ref, `${e.message} The run's other events are in the metrics store.`);
      try {
        for await (const batch of readRunEventBatches(ref.runDir, {
          after,
          trustKinds: TRUSTED_KINDS,
          onCorruption,
        })) {
          const out: IngestEvent[] = new Array(batch.length);
          for (let k = 0; k < batch.length; k++) {
            const r = batch[k];
            // The event read back is this reader's own object: numbered in place, not copied.
            (r.event as { seq?: number }).seq = ++seq;
            out[k] = r.event;
          }
          after = batch[batch.length - 1].next;
          events += batch.length;
          if (clock.monotonic() - lastReport >= 250) report(runsDone);
          yield out;
        }
      } catch (e) {
        // A mark that no longer fits the journal (it was rewritten): the next catch-up reads it from the start.
        if (from && isPositionError(e)) {
          marks.delete(ref.runId);
          await forgetMark(store, ref.runId);
          continue;
        }
        // Unreadable (a newer sluice's format, no permission, …): the other runs are loaded.
        skipped++;
        warn(
          ref,
          `not loaded into the metrics store (the other runs are; the next catch-up tries again): ${describe(e)}`,
        );
        continue;
      }
      if (after) reached.set(ref.runId, { bytes, segment: after.segment, offset: after.offset, seq });
      runsDone++;
      report(runsDone);
    }
  }
  const result = todo.length > 0 ? await store.ingestBatches(all()) : { accepted: 0 };
  // Before the marks: a crash in between reads these runs again, and this runs again.
  if (reached.size > 0)
    await store.withWriter("catchUp", (conn) => dropSupersededLetters(conn, [...reached.keys()]));
  if (reached.size > 0) await writeMarks(store, reached);
  return {
    runs: refs.length,
    read: todo.length,
    events,
    accepted: result.accepted,
    skipped,
    elapsedMs: clock.monotonic() - t0,
  };
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function isPositionError(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "JournalPositionError";
}

export interface CaughtUp {
  readonly store: MetricsStore;
  /** The catch-up's figures; undefined when another process holds the store for writing. */
  readonly caughtUp: CatchUpResult | undefined;
  /** Why the store was not caught up (it is then open read-only, as it stood). */
  readonly stale?: string;
}

/**
 * Opens the store of a state directory for a reader and catches it up. When
 * another process holds it for writing (a `sluice serve`, another catch-up)
 * past `waitMs`, it opens a copy of the file and its WAL as they stood,
 * read-only (DuckDB opens no file another process writes, not even
 * read-only), and `stale` says so. The copy is removed on close.
 */
export async function openCaughtUp(
  home: string | undefined,
  options: CatchUpOptions & {
    readonly waitMs?: number;
    /** Called once when the store is held and the wait for it begins (what holds it, for how long). */
    readonly onWaiting?: (message: string) => void;
  } = {},
): Promise<CaughtUp> {
  const { openMetricsStore, metricsPath } = await import("./store.ts");
  const clock = options.clock ?? systemClock;
  const root = stateHome(home);
  await requireStateDirectory(root);
  // Another reader catching up holds the file for a moment: wait for it (default 10 s) before settling for less.
  const waitMs = options.waitMs ?? 10_000;
  const deadline = clock.monotonic() + waitMs;
  let store: MetricsStore | undefined;
  let locked: MetricsLockedError | undefined;
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    try {
      store = await openMetricsStore(root);
      break;
    } catch (e) {
      if (!(e instanceof MetricsLockedError)) throw e;
      if (!locked && waitMs > 0)
        options.onWaiting?.(
          `${metricsPath(root)} is held by ${e.pid === undefined ? "another process" : `process ${e.pid}`}; waiting up to ${waitMs < 1000 ? `${waitMs} ms` : `${Math.round(waitMs / 1000)} s`} for it…`,
        );
      locked = e;
    }
    if (clock.monotonic() + delay > deadline) break;
    await clock.sleep(delay);
  }
  if (!store) {
    const error = locked as MetricsLockedError;
    const dir = await fs.tempDir("sluice-metrics-");
    const remove = () => fs.remove(dir);
    try {
      const copy = paths.join(dir, "metrics.duckdb");
      await fs.copyFile(metricsPath(root), copy);
      // What the holder committed since its last checkpoint is in the WAL: a read-only open replays it.
      const wal = `${metricsPath(root)}.wal`;
      if (await fs.stat(wal)) await fs.copyFile(wal, `${copy}.wal`).catch(() => {});
      const ro = await openMetricsStore(root, { readOnly: true, path: copy, afterClose: remove });
      // A copy without the views (the file was new, or caught between writes) is no store to show.
      if (
        !(await ro.query("SELECT 1 FROM runs LIMIT 0").then(
          () => true,
          () => false,
        ))
      ) {
        await ro.close();
        throw error;
      }
      const holder = error.pid === undefined ? "another process" : `process ${error.pid}`;
      return {
        store: ro,
        caughtUp: undefined,
        stale: `${metricsPath(root)} is held by ${holder} (a \`sluice serve\` or another reader): showing a copy of it as it stood, which may lack the newest events.`,
      };
    } catch {
      await remove();
      throw error;
    }
  }
  let result: CatchUpResult;
  try {
    result = await catchUp(store, root, options);
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return { store, caughtUp: result };
}
