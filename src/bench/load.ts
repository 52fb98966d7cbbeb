/**
 * @module Finding scenarios: the built-in ones by name, and the ones a
 * user's file exports (`sluice bench path/to/my.bench.ts`), default or
 * named, loaded with the runtime's TypeScript support as `sluice run` loads
 * pipelines. Errors name the file and say what to do.
 */
import { describeError, PipelineLoadError } from "../pipeline/errors.ts";
import { fs, paths } from "../runtime/fs.ts";
import { importModule } from "../runtime/process.ts";
import type { ScenarioSource } from "./protocol.ts";
import { isScenario, type Scenario } from "./scenario.ts";
import { builtinScenarios } from "./scenarios/index.ts";

/** A scenario and where a measuring process can load it from again. */
export interface LoadedScenario {
  readonly scenario: Scenario<unknown>;
  readonly source: ScenarioSource;
}

/** Every scenario a file exports (default export first, then named exports in order). */
export async function loadScenarioFile(file: string): Promise<LoadedScenario[]> {
  const path = paths.resolve(file);
  const info = await fs.stat(path);
  if (!info?.isFile) {
    throw new PipelineLoadError(`scenario file not found: ${path}`, {
      hint: "Give a scenario name (`sluice bench --list`) or the path of a file that exports scenario({...}).",
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(paths.toFileUrl(path));
  } catch (e) {
    throw new PipelineLoadError(`could not load ${path}: ${describeError(e)}`, {
      cause: e,
      hint: "Fix the error in the scenario file (syntax, imports), then run again.",
    });
  }
  const found: LoadedScenario[] = [];
  const seen = new Set<string>();
  const keys = ["default", ...Object.keys(mod).filter((k) => k !== "default")];
  for (const k of keys) {
    const v = mod[k];
    if (!isScenario(v) || seen.has(v.name)) continue;
    seen.add(v.name);
    found.push({ scenario: v, source: { kind: "file", file: path, name: v.name } });
  }
  if (found.length === 0) {
    throw new PipelineLoadError(`${path} exports no scenario`, {
      hint: 'Export the value of scenario({ name, generate, pipeline }) from "sluice/bench", e.g. `export default scenario({...})`.',
    });
  }
  return found;
}

/** The built-in scenario called `name`, or undefined. */
export function builtinScenario(name: string): LoadedScenario | undefined {
  const s = builtinScenarios.find((x) => x.name === name);
  return s ? { scenario: s, source: { kind: "builtin", name } } : undefined;
}

/** Loads a scenario again from its source (in the measuring process). */
export async function loadScenario(source: ScenarioSource): Promise<Scenario<unknown>> {
  if (source.kind === "builtin") {
    const s = builtinScenario(source.name);
    if (!s) throw new PipelineLoadError(`no built-in scenario "${source.name}"`);
    return s.scenario;
  }
  const all = await loadScenarioFile(source.file);
  const s = all.find((x) => x.scenario.name === source.name);
  if (!s) throw new PipelineLoadError(`${source.file} no longer exports a scenario "${source.name}"`);
  return s.scenario;
}
