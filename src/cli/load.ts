/**
 * @module Loading a user's pipeline file: resolves the path, imports it with
 * the runtime's TypeScript support, and checks it default-exports a pipeline.
 * Every failure is a `PipelineLoadError` that names the file and says what to do.
 */
import { describeError, PipelineLoadError } from "../pipeline/errors.ts";
import { isPipeline, type Pipeline } from "../pipeline/pipeline.ts";
import { fs, paths } from "../runtime/fs.ts";
import { importModule } from "../runtime/process.ts";

export async function loadPipeline(file: string): Promise<Pipeline<unknown>> {
  const path = paths.resolve(file);
  const info = await fs.stat(path);
  if (!info) {
    throw new PipelineLoadError(`pipeline file not found: ${path}`, {
      hint: "Check the path; pipeline files are TypeScript or JavaScript modules, e.g. examples/orders.ts.",
    });
  }
  if (!info.isFile) throw new PipelineLoadError(`not a file: ${path}`);
  let mod: Record<string, unknown>;
  try {
    await preload();
    mod = await importModule(paths.toFileUrl(path));
  } catch (e) {
    const message = describeError(e);
    const cjs = /Cannot require\(\) ES Module|require\(\) of ES Module/.test(message);
    throw new PipelineLoadError(`could not load ${path}: ${cjs ? "it was loaded as CommonJS" : message}`, {
      cause: e,
      hint: cjs
        ? 'Add "type": "module" to your project\'s package.json (or name the file .mts), then run again.'
        : (ownHint(e) ?? "Fix the error in the pipeline file (syntax, imports), then run again."),
    });
  }
  const candidate = mod.default;
  if (candidate === undefined) {
    throw new PipelineLoadError(`${path} has no default export`, {
      hint: 'Add `export default pipeline("name").from(...).via(...).to(...)` to the file.',
    });
  }
  const value = typeof candidate === "function" ? await (candidate as () => unknown)() : candidate;
  if (!isPipeline(value)) {
    throw new PipelineLoadError(
      `the default export of ${path} is not a pipeline (got ${describeKind(value)})`,
      {
        hint: 'Default-export the value built by pipeline("name").from(source)…to(sink).',
      },
    );
  }
  if (!value.sink) {
    throw new PipelineLoadError(`the pipeline "${value.name}" in ${path} has no sink`, {
      hint: "End it with .to(sink), e.g. .to(ndjson('out/result.ndjson')).",
    });
  }
  return value;
}

/** The hint a sluice error (tagged) thrown while the file was evaluated carries (a bad option, say). */
function ownHint(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const { _tag, hint } = e as { _tag?: unknown; hint?: unknown };
  return typeof _tag === "string" && typeof hint === "string" && hint.length > 0 ? hint : undefined;
}

function describeKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}

/**
 * Loads sluice's entry points before the pipeline file. On Node a `.ts` file
 * needs the tsx loader, whose hooks run on a separate thread: every module
 * loaded after it is registered pays a round trip to that thread, and sluice
 * with its dependencies is ~300 modules. Loaded first, they are cached and
 * the pipeline's `import … from "sluice"` finds them (spawn → pipeline
 * loaded: median 1018 → 826 ms over five alternating starts, load ~2.5).
 */
async function preload(): Promise<void> {
  await Promise.all([
    import("../index.ts"),
    import("../sources/index.ts"),
    import("../operators/index.ts"),
    import("../sinks/index.ts"),
  ]);
}
