/**
 * @module What `POST /api/runs/{id}/redrive` starts: a redrive (`dlq/redrive.ts`)
 * in the server's own process, answered as soon as its run has started and
 * left running in the background. The pipeline file is loaded by a function
 * the CLI injects (`sluice serve`; the HTTP layer does not import the CLI):
 * a path the client names must stay inside the server's working directory
 * (no absolute path, no `..`, no symbolic link out of it, a .ts/.mts/.js/.mjs
 * file that exists); without one, the file recorded for the run is loaded,
 * if the run ran in the server's directory (its relative paths resolve
 * there). One redrive of a run at a time: a second one, from this server or
 * while an earlier one is unfinished in the run's ledger, is a conflict. A
 * background redrive that fails is logged and ends as a failed run in the
 * journal; it never takes the server down.
 */
import { filterLetters, type LetterFilter, openQueue } from "../dlq/queue.ts";
import { redrive } from "../dlq/redrive.ts";
import { type RunRef, readRunMeta } from "../journal/runs.ts";
import { ConfigError, describeError, StateError } from "../pipeline/errors.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { RunPlugin } from "../pipeline/plugin.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { fs, paths } from "../runtime/fs.ts";
import { cwd, stderr } from "../runtime/process.ts";
import { resolveRunOr404 } from "./dead-letters.ts";
import { BadRequestError, ConflictError } from "./errors.ts";

/** What a client asks for (validated by the route: a relative path, identifier-like filters). */
export interface RedriveRequest {
  /** The fixed pipeline file, relative to the server's working directory. */
  readonly pipeline?: string;
  readonly stage?: string;
  readonly reason?: string;
  readonly line?: number;
}

/** The answer: the redrive run started (`run`), or nothing to redrive (`taken: 0`, no run). */
export interface RedriveStarted {
  readonly run?: string;
  readonly of: string;
  readonly taken: number;
}

export interface RedriveStarter {
  /** Starts a redrive of the run `id` names; resolves once its run has started (or nothing matched). */
  start(id: string, request: RedriveRequest): Promise<RedriveStarted>;
  /** Interrupts the redrives still running (each ends resumable by `sluice resume`) and waits for them. */
  close(): Promise<void>;
}

export interface RedriveStarterOptions {
  /** The state directory. */
  readonly home: string;
  /** Loads a pipeline file (the CLI's loader). */
  readonly load: (file: string) => Promise<Pipeline<unknown>>;
  /** The directory client paths are relative to and must stay in; default the working directory. */
  readonly root?: string;
  readonly clock?: Clock;
  /** Where background failures are reported; default stderr. */
  readonly log?: (line: string) => void;
}

export function redriveStarter(options: RedriveStarterOptions): RedriveStarter {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => stderr.write(`${line}\n`));
  const root = paths.resolve(options.root ?? cwd());
  /** Redrives started here and not finished, by the run they redrive. */
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  async function start(id: string, request: RedriveRequest): Promise<RedriveStarted> {
    const of = await resolveRunOr404(options.home, id);
    if (running.has(of.runId)) throw busy(of.runId);
    // Held from here, so two requests at once cannot both pass the checks below.
    const controller = new AbortController();
    const slot = { controller, done: Promise.resolve() as Promise<unknown> };
    running.set(of.runId, slot);
    let background = false;
    try {
      const file = request.pipeline
        ? await inside(root, request.pipeline)
        : await recordedFile(of, await fs.realpath(root));
      const queue = await openQueue(of, clock.now());
      if (queue.pending.length) {
        const p = queue.pending[0];
        const next =
          p.status === "running" ? "wait for it to finish" : `finish it first: sluice resume ${p.runId}`;
        throw busy(of.runId, `${p.runId} (${p.status}); ${next}`);
      }
      const filter: Omit<LetterFilter, "status"> = {
        stage: request.stage,
        reason: request.reason,
        line: request.line,
      };
      const taken = filterLetters(queue.letters, { ...filter, status: "dead" }).length;
      if (taken === 0) return { of: of.runId, taken: 0 };
      const pipeline = await loadOr400(file, request.pipeline ?? "the run's pipeline file");
      let started: (runId: string) => void = () => {};
      const startedRun = new Promise<string>((resolve) => {
        started = resolve;
      });
      const announce: RunPlugin = { name: "http-redrive", start: (run) => started(run.runId) };
      const done = redrive({
        run: of.runId,
        pipeline,
        file,
        home: options.home,
        filter,
        clock,
        signal: controller.signal,
        plugins: [announce],
      });
      const first = await Promise.race([
        startedRun.then((run) => ({ run })),
        done.then((result) => ({ result })),
      ]).catch((e: unknown) => {
        throw refusal(e);
      });
      if ("result" in first && !first.result.summary) return { of: of.runId, taken: 0 };
      background = true;
      slot.done = done
        .then((r) => {
          const s = r.summary;
          if (!s || s.status === "completed") return;
          const why = s.error ? `: ${describeError(s.error)}` : "";
          const next = s.status === "interrupted" ? ` (sluice resume ${s.runId} continues it)` : "";
          log(`sluice http: redrive ${s.runId} of run ${of.runId} ${s.status}${why}${next}`);
        })
        .catch((e: unknown) => log(`sluice http: redrive of run ${of.runId} failed: ${describeError(e)}`))
        .finally(() => running.delete(of.runId));
      const run = "run" in first ? first.run : first.result.summary!.runId;
      return { run, of: of.runId, taken };
    } finally {
      if (!background) running.delete(of.runId);
    }
  }

  async function loadOr400(file: string, named: string): Promise<Pipeline<unknown>> {
    try {
      return await options.load(file);
    } catch (e) {
      // The loader's message names absolute paths and the file's own errors: for the server's log only.
      log(`sluice http: could not load ${file}: ${describeError(e)}`);
      throw new BadRequestError("body.pipeline", `could not load ${named} (the server's log says why)`);
    }
  }

  return {
    start,
    async close() {
      const all = [...running.values()];
      for (const r of all) r.controller.abort();
      await Promise.all(all.map((r) => r.done));
    },
  };
}

function busy(runId: string, pending?: string): ConflictError {
  return new ConflictError(
    pending
      ? `run ${runId} has a redrive that did not complete: ${pending}`
      : `a redrive of run ${runId} is already running in this server; wait for it to finish`,
  );
}

/** What a redrive that fails before its run starts answers: a 400 naming the field, a 409, or itself (500). */
function refusal(e: unknown): unknown {
  if (e instanceof ConfigError) return new BadRequestError("body.pipeline", e.message);
  // Raced past the check above (a `sluice redrive` started meanwhile), or a run that has not
  // completed (`redrive`'s own check): the message names runs, not paths.
  if (e instanceof StateError && /did not complete|cannot be redriven/.test(e.message))
    return new ConflictError(e.message);
  return e;
}

/** `rel` resolved inside `root` (symbolic links followed), or a 400 naming `body.pipeline`. */
export async function inside(root: string, rel: string): Promise<string> {
  const bad = (why: string) => new BadRequestError("body.pipeline", why);
  if (paths.isAbsolute(rel) || /^[A-Za-z]:|\\|\0/.test(rel))
    throw bad("must be a path relative to the server's directory");
  if (rel.split("/").includes("..")) throw bad("must not contain '..'");
  if (!/\.(ts|mts|js|mjs)$/.test(rel)) throw bad("must be a .ts, .mts, .js or .mjs file");
  const realRoot = await fs.realpath(root);
  const real = await fs.realpath(paths.resolve(root, rel));
  if (!realRoot || !real) throw bad(`${rel} does not exist in the server's directory`);
  const within = paths.relative(realRoot, real);
  if (within === "" || within.startsWith("..") || paths.isAbsolute(within))
    throw bad("must stay inside the server's directory (a symbolic link leads out of it)");
  if (!/\.(ts|mts|js|mjs)$/.test(real)) throw bad("must be a .ts, .mts, .js or .mjs file");
  if (!(await fs.stat(real))?.isFile) throw bad(`${rel} is not a file`);
  return real;
}

/** The pipeline file recorded for the run, if it ran in the server's directory. */
async function recordedFile(of: RunRef, realRoot: string | undefined): Promise<string> {
  const meta = await readRunMeta(of.runDir);
  if (!meta?.file)
    throw new BadRequestError(
      "body.pipeline",
      `run ${of.runId} was not started from a pipeline file: pass pipeline (a file in the server's directory)`,
    );
  const ranIn = meta.cwd ? await fs.realpath(meta.cwd) : undefined;
  if (!realRoot || ranIn !== realRoot)
    throw new BadRequestError(
      "body.pipeline",
      `run ${of.runId} ran in another directory than this server's, where its pipeline's relative paths resolve: ` +
        "pass pipeline (a file in the server's directory), or serve from the run's directory",
    );
  if (!(await fs.stat(meta.file))?.isFile)
    throw new BadRequestError(
      "body.pipeline",
      `the pipeline file of run ${of.runId} is gone: pass pipeline (a file in the server's directory)`,
    );
  return meta.file;
}
