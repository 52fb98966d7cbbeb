/**
 * @module The runs in a state directory, as their journals tell it. A run is
 * `<home>/<pipeline>/<runId>/` with `journal/`, `run.json` (what started it:
 * file, working directory, definition hash) and, while a process writes it,
 * `lock`. Status comes from the journal alone: the last `run.ended` after the
 * last `run.started`, or none — a crash — which makes the run resumable
 * unless a live process still holds its lock. Nothing here writes: a live
 * run's journal is read as it is (see journal-reader.ts), so `sluice runs`,
 * `events` and `replay`, and the metrics store's re-ingestion after kill -9,
 * are safe to use at any time.
 */
import { RunProjection, type RunState } from "../events/projection.ts";
import { type EventOf, EventSchema, type SluiceEvent } from "../events/schema.ts";
import { describeError, StateError } from "../pipeline/errors.ts";
import { requireStateDirectory } from "../pipeline/internal/state-dir.ts";
import { NAME_PATTERN } from "../pipeline/pipeline.ts";
import { fs, paths } from "../runtime/fs.ts";
import { inspectLock, type LockHolder } from "../runtime/lock.ts";
import { fromJournalValue } from "./internal/plain.ts";
import type { JournalPosition, JournalReadOptions } from "./journal.ts";
import { type JournalReader, readJournal } from "./journal-reader.ts";

export const RUN_META_FILE = "run.json";
export const LOCK_FILE = "lock";
export const JOURNAL_DIR = "journal";

/** What started a run, written once when it is created (`run.json`). */
export interface RunMeta {
  readonly runId: string;
  readonly pipeline: string;
  /** The pipeline file, when started by `sluice run FILE` (so `sluice resume` can load it). */
  readonly file?: string;
  /** The working directory relative paths in the pipeline resolve against. */
  readonly cwd: string;
  readonly createdAt: number;
  readonly definitionHash: string;
  /** Set on a redrive (`sluice redrive`): the run whose dead letters it re-runs. */
  readonly redriveOf?: string;
}

export interface RunRef {
  readonly pipeline: string;
  readonly runId: string;
  readonly runDir: string;
}

export type RunStatus =
  | "running"
  | "completed"
  | "failed"
  | "cancelled"
  | "interrupted"
  | "crashed"
  /** The journal cannot be read (e.g. written by a newer sluice): see `error`. */
  | "unreadable";

export interface RunInfo extends RunRef {
  readonly status: RunStatus;
  /** Crashed or interrupted, and no live process holds it: `sluice run`/`resume` continues it. */
  readonly resumable: boolean;
  /** The live process writing the run, when `status` is `running`. */
  readonly holder?: LockHolder;
  readonly meta?: RunMeta;
  /** The first `run.started` (when the run began) and the last (the current attempt). */
  readonly firstStarted?: EventOf<"run.started">;
  readonly started?: EventOf<"run.started">;
  /** The last `run.ended`, if it came after the last `run.started`. */
  readonly ended?: EventOf<"run.ended">;
  readonly checkpoint?: EventOf<"checkpoint">;
  /** Why the journal could not be read, when `status` is `unreadable`. */
  readonly error?: string;
}

/** An event read back from a journal, with where it is and where the next one starts. */
export interface JournaledEvent {
  readonly event: SluiceEvent;
  readonly position: JournalPosition;
  /** Pass as `after` to read only what was journaled after this event. */
  readonly next: JournalPosition;
}

const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]+$/;

export interface ListRunsOptions {
  /**
   * Called for each pipeline directory that cannot be listed (another user's, mode 0700) when every
   * pipeline is listed; the others are listed. Without it such a directory is left out silently. A
   * pipeline named in the call that cannot be listed is a `StateError` either way.
   */
  readonly onUnreadable?: (error: StateError) => void;
}

/** Run directories under `home` (of one pipeline, or all), oldest first. */
export async function listRunRefs(
  home: string,
  pipeline?: string,
  options: ListRunsOptions = {},
): Promise<RunRef[]> {
  await requireStateDirectory(home);
  const pipelines = pipeline ? [pipeline] : (await fs.readdir(home)).filter((n) => NAME_PATTERN.test(n));
  const refs: RunRef[] = [];
  for (const name of pipelines) {
    const dir = paths.join(home, name);
    let runIds: string[];
    try {
      // The state directory also holds files (the metrics store's database, …).
      if (!(await fs.stat(dir))?.isDirectory) continue;
      runIds = await fs.readdir(dir);
    } catch (e) {
      const error = unlistable(name, dir, e);
      if (pipeline) throw error;
      options.onUnreadable?.(error);
      continue;
    }
    for (const runId of runIds) {
      if (!RUN_ID.test(runId)) continue;
      const runDir = paths.join(dir, runId);
      let journaled: boolean;
      try {
        journaled = (await fs.stat(paths.join(runDir, JOURNAL_DIR)))?.isDirectory === true;
      } catch {
        // A run directory this process may not look into (another user's run, mode 0700): listed,
        // and each reader says why it could not read it (`inspectRun`: "unreadable"; the catch-up warns).
        journaled = true;
      }
      if (journaled) refs.push({ pipeline: name, runId, runDir });
    }
  }
  return refs.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

function unlistable(pipeline: string, dir: string, e: unknown): StateError {
  return new StateError(`the runs of pipeline "${pipeline}" cannot be listed (${dir}): ${describeError(e)}`, {
    cause: e,
    hint: "Its directory belongs to another user or is not readable by you: use a state directory of your own (--home DIR or SLUICE_HOME), or run as the user who owns it.",
  });
}

/**
 * The run whose id is `id`; else the latest run of the pipeline named `id`;
 * else the run whose id ends or starts with it (one match), in any pipeline
 * under `home`. Throws `StateError` when none or several match.
 */
export async function findRun(home: string, id: string): Promise<RunRef> {
  const unlisted: StateError[] = [];
  const refs = await listRunRefs(home, undefined, { onUnreadable: (e) => unlisted.push(e) });
  const exact = refs.filter((r) => r.runId === id);
  // Refs are sorted by run id, which starts with the start time: the last is the latest.
  const latest = exact.length ? undefined : refs.filter((r) => r.pipeline === id).at(-1);
  if (latest) return latest;
  const matches = exact.length ? exact : refs.filter((r) => r.runId.startsWith(id) || r.runId.endsWith(id));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new StateError(`no run or pipeline "${id}" under ${home}`, {
      hint: `\`sluice runs\` lists the runs (use --home DIR or SLUICE_HOME if they are elsewhere).${unlisted
        .map((e) => ` Not searched: ${e.message}.`)
        .join("")}`,
    });
  }
  throw new StateError(
    `"${id}" matches ${matches.length} runs: ${matches.map((m) => `${m.pipeline}/${m.runId}`).join(", ")}`,
    { hint: "Give more of the run id." },
  );
}

export async function readRunMeta(runDir: string): Promise<RunMeta | undefined> {
  try {
    return JSON.parse(await fs.readText(paths.join(runDir, RUN_META_FILE))) as RunMeta;
  } catch {
    return undefined;
  }
}

function after(a: JournalPosition, b: JournalPosition): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset > b.offset);
}

/** Status, last checkpoint and holder of one run, from its journal and lock. */
export async function inspectRun(ref: RunRef): Promise<RunInfo> {
  const meta = await readRunMeta(ref.runDir);
  let lock: Awaited<ReturnType<typeof inspectLock>>;
  let reader: JournalReader | undefined;
  try {
    lock = await inspectLock(paths.join(ref.runDir, LOCK_FILE));
    reader = await readJournal(paths.join(ref.runDir, JOURNAL_DIR));
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { ...ref, status: "unreadable", resumable: false, meta, error };
  }
  const tolerant: JournalReadOptions = { onCorruption: () => {} };
  let firstStarted: EventOf<"run.started"> | undefined;
  let started: EventOf<"run.started"> | undefined;
  let ended: EventOf<"run.ended"> | undefined;
  let checkpoint: EventOf<"checkpoint"> | undefined;
  if (reader) {
    for await (const r of reader.read(undefined, tolerant)) {
      if ((r.value as { kind?: unknown }).kind === "run.started") firstStarted = r.value as never;
      break;
    }
    const s = await reader.lastOfKind("run.started", tolerant);
    const e = await reader.lastOfKind("run.ended", tolerant);
    const c = await reader.lastOfKind("checkpoint", tolerant);
    started = s?.value as EventOf<"run.started"> | undefined;
    if (e && (!s || after(e.position, s.position))) ended = e.value as EventOf<"run.ended">;
    checkpoint = c?.value as EventOf<"checkpoint"> | undefined;
    firstStarted ??= started;
  }
  const running = lock.state === "held";
  const status: RunStatus = running ? "running" : ended ? ended.status : "crashed";
  return {
    ...ref,
    status,
    resumable: status === "crashed" || status === "interrupted",
    holder: lock.state === "held" ? lock.holder : undefined,
    meta,
    firstStarted,
    started,
    ended,
    checkpoint,
  };
}

/** Every run under `home` (of one pipeline, or all), oldest first. */
export async function listRuns(
  home: string,
  pipeline?: string,
  options: ListRunsOptions = {},
): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  for (const ref of await listRunRefs(home, pipeline, options)) out.push(await inspectRun(ref));
  return out;
}

export interface ReadRunEventsOptions extends JournalReadOptions {
  /** Only events journaled after this position (a `next` from an earlier read). */
  readonly after?: JournalPosition;
  /** Only events journaled before this position (e.g. `ResumeInfo.journalEnd`). */
  readonly before?: JournalPosition;
  /** Only these kinds. */
  readonly kinds?: readonly string[];
  /** Called with each record that is not a valid event (it is skipped). */
  readonly onInvalid?: (value: unknown) => void;
}

/**
 * The events of a run's journal, in order, validated against the event
 * schema (a record that is not a valid event is skipped and handed to
 * `onInvalid`). Safe while the run is live or after it crashed: nothing is
 * written. With `after`, only what was journaled after that position: the
 * metrics store re-ingests what was journaled but not yet stored before a
 * kill -9 this way.
 *
 * @example
 * ```ts
 * let mark: JournalPosition | undefined;
 * for await (const { event, next } of readRunEvents(runDir, { after: mark })) {
 *   store.add(event);
 *   mark = next;
 * }
 * ```
 */
export async function* readRunEvents(
  runDir: string,
  options: ReadRunEventsOptions = {},
): AsyncGenerator<JournaledEvent> {
  for await (const batch of readRunEventBatches(runDir, options)) yield* batch;
}

export interface ReadRunEventBatchesOptions extends ReadRunEventsOptions {
  /**
   * Kinds whose records are taken as they were written, with only their
   * common fields (`kind`, `ts`, `runId`, `pipeline`) checked instead of the
   * whole event schema: the writer built them from the typed union and their
   * CRC says they are unchanged. For bulk readers (the metrics catch-up),
   * where the schema check was a tenth of the time; records of other kinds,
   * or whose common fields are wrong, get the full check.
   */
  readonly trustKinds?: ReadonlySet<string>;
}

/**
 * `readRunEvents` in batches: the events of one read window of the journal
 * at a time (a few thousand), one promise per batch instead of per event.
 */
export async function* readRunEventBatches(
  runDir: string,
  options: ReadRunEventBatchesOptions = {},
): AsyncGenerator<JournaledEvent[]> {
  const reader: JournalReader | undefined = await readJournal(paths.join(runDir, JOURNAL_DIR));
  if (!reader) return;
  const kinds = options.kinds?.length ? new Set(options.kinds) : undefined;
  const trust = options.trustKinds;
  const before = options.before;
  for await (const records of reader.readBatches(options.after, options)) {
    const out: JournaledEvent[] = [];
    let ended = false;
    for (const r of records) {
      if (
        before &&
        (r.position.segment > before.segment ||
          (r.position.segment === before.segment && r.position.offset >= before.offset))
      ) {
        ended = true;
        break;
      }
      const v = r.value as Record<string, unknown> | null;
      const kind = v?.kind;
      if (kinds && !kinds.has(kind as string)) continue;
      if (
        trust?.has(kind as string) &&
        typeof v?.ts === "number" &&
        typeof v.runId === "string" &&
        typeof v.pipeline === "string"
      ) {
        out.push({ event: fromJournalValue(v) as SluiceEvent, position: r.position, next: r.next });
        continue;
      }
      const parsed = EventSchema.safeParse(fromJournalValue(r.value));
      if (parsed.success) out.push({ event: parsed.data, position: r.position, next: r.next });
      else options.onInvalid?.(r.value);
    }
    if (out.length > 0) yield out;
    if (ended) return;
  }
}

/** The run's state rebuilt from its journal alone (the same fold the live run uses). */
export async function replayRun(
  runDir: string,
  options: JournalReadOptions = {},
): Promise<{ state: RunState | undefined; events: number; skipped: number }> {
  const projection = new RunProjection();
  let events = 0;
  let skipped = 0;
  let runId: string | undefined;
  for await (const { event } of readRunEvents(runDir, { ...options, onInvalid: () => skipped++ })) {
    projection.apply(event);
    runId ??= event.runId;
    events++;
  }
  return { state: runId === undefined ? undefined : projection.get(runId), events, skipped };
}
