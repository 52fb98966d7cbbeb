/**
 * @module `sluice resume RUN`: continues a crashed or interrupted run by id
 * (or a unique part of it). The pipeline file and working directory come
 * from the run's `run.json`, so relative paths in the pipeline resolve as
 * they did when the run started; the rest is `sluice run` resuming.
 */
import { findRun, readRunMeta } from "../../journal/runs.ts";
import { describeError, StateError } from "../../pipeline/errors.ts";
import { stateHome } from "../../pipeline/run.ts";
import { paths } from "../../runtime/fs.ts";
import { chdir, cwd } from "../../runtime/process.ts";
import { type RunFlags, runCommand } from "./run.ts";

export async function resumeCommand(id: string, flags: Omit<RunFlags, "resume" | "fresh">): Promise<number> {
  const home = stateHome(flags.home);
  const ref = await findRun(home, id);
  const meta = await readRunMeta(ref.runDir);
  if (meta?.redriveOf !== undefined)
    return (await import("./redrive.ts")).resumeRedriveCommand(ref, { ...flags, home });
  if (!meta?.file) {
    throw new StateError(
      `run ${ref.runId} was not started from a pipeline file, so sluice cannot load it again`,
      {
        hint: `Resume it from your program: runJournaled(pipeline, { resume: "${ref.runId}" }).`,
      },
    );
  }
  if (meta.cwd && paths.resolve(meta.cwd) !== paths.resolve(cwd())) {
    try {
      chdir(meta.cwd);
    } catch (e) {
      throw new StateError(
        `run ${ref.runId} was started in ${meta.cwd}, which cannot be entered: ${describeError(e)}`,
        {
          hint: "Restore that directory (the pipeline's relative paths resolve against it), or start over with --fresh.",
        },
      );
    }
  }
  return runCommand(meta.file, { ...flags, home, resume: ref.runId });
}
