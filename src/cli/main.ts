/**
 * @module The `sluice` command line. Subcommands are looked up in one table;
 * each parses its own flags strictly (an unknown flag is a usage error with a
 * clear message and exit code 2). Commands are imported when they run:
 * loading all of them (DuckDB, the bench harness) cost ~0.3 s of every
 * start, and a resumed run's time to its first record includes the start.
 */
import { describeError } from "../pipeline/errors.ts";
import { runtimeName, runtimeVersion } from "../runtime/detect.ts";
import { argv, parseArgs, setExitCode, stderr, stdout } from "../runtime/process.ts";
import type { RunFlags } from "./commands/run.ts";
import type { SchemaFlags } from "./commands/schema.ts";
import { EXIT, exitCodeOf, formatError, UsageError } from "./errors.ts";
import { COMMAND_HELP, HELP, VERSION, wantsHelp } from "./help.ts";

type ParseConfig = Parameters<typeof parseArgs>[0];

/** Strict flag parsing with our own error message. */
export function parse(
  args: string[],
  options: NonNullable<ParseConfig>["options"],
  command: string,
): { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${command}: ${describeError(e).replace(/^TypeError( \[\w+\])?: /, "")}`);
  }
}

const common = {
  quiet: { type: "boolean", short: "q", default: false },
  verbose: { type: "boolean", short: "v", default: false },
  home: { type: "string" },
} as const;

const journal = {
  fresh: { type: "boolean", default: false },
  fsync: { type: "string" },
  adaptive: { type: "boolean", default: false },
} as const;

function fsyncFlag(v: unknown): RunFlags["fsync"] {
  if (v === undefined) return undefined;
  if (v === "always" || v === "checkpoint" || v === "interval") return v;
  throw new UsageError(`--fsync: "${String(v)}" is not one of checkpoint, interval, always`);
}

const http = {
  host: { type: "string" },
  token: { type: "string" },
  "allow-writes": { type: "boolean", default: false },
  "allowed-hosts": { type: "string", multiple: true },
} as const;

/** The letter filters of `dlq` and `redrive`. */
const dlqFlags = {
  json: { type: "boolean", default: false },
  stage: { type: "string" },
  reason: { type: "string" },
  line: { type: "string" },
  index: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
} as const;

/** `--serve`'s companions on `run` and `resume`. */
const live = { ...http, "keep-serving": { type: "boolean", default: false } } as const;

/** `--serve` takes an optional port: `--serve`, `--serve 8080` or `--serve=8080`. */
function takeServeFlag(args: string[]): { serve?: string; args: string[]; after?: string } {
  const out: string[] = [];
  let serve: string | undefined;
  /** What followed `--serve` when it is not a port (a pipeline file, or a mistyped port). */
  let after: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--serve") {
      const next = args[i + 1];
      serve = /^\d+$/.test(next ?? "") ? args[++i] : "";
      if (serve === "" && next !== undefined && !next.startsWith("-")) after = next;
    } else if (a.startsWith("--serve=")) serve = a.slice("--serve=".length);
    else out.push(a);
  }
  return { serve, args: out, after };
}

/** "expected exactly one pipeline file", or, when one of two is what followed `--serve`, that it is not a port. */
function onePipelineFile(command: string, positionals: readonly string[], after: string | undefined): never {
  if (positionals.length === 2 && after !== undefined && positionals.includes(after))
    throw new UsageError(
      `--serve: "${after}" is not a port number (0-65535; 0 picks a free one), and ${command} takes one pipeline file`,
    );
  throw new UsageError(
    `${command}: expected exactly one pipeline file, e.g. \`sluice run examples/orders.ts\``,
  );
}

function httpFlags(values: Record<string, unknown>, port: string | undefined) {
  if (port !== undefined && port !== "" && !(/^\d+$/.test(port) && Number(port) <= 65_535))
    throw new UsageError(`--port/--serve: "${port}" is not a port number (0-65535; 0 picks a free one)`);
  return {
    keepServing: Boolean(values["keep-serving"]),
    host: values.host as string | undefined,
    port: port ? Number(port) : undefined,
    token: values.token as string | undefined,
    allowWrites: Boolean(values["allow-writes"]),
    allowedHosts: values["allowed-hosts"] as string[] | undefined,
    home: values.home as string | undefined,
    quiet: Boolean(values.quiet),
  };
}

/** `--serve`'s plugin for `run` and `resume`, if asked for (the HTTP layer and DuckDB load only then). */
async function liveServe(
  values: Record<string, unknown>,
  serve: string | undefined,
): Promise<RunFlags["serve"]> {
  if (serve === undefined) {
    if (values["keep-serving"]) throw new UsageError("--keep-serving only applies with --serve [PORT]");
    return undefined;
  }
  const flags = httpFlags(values, serve);
  const { servePlugin } = await import("../http/cli.ts");
  return (alerts) => servePlugin(flags, alerts);
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "help" && rest[0] !== undefined && COMMAND_HELP[rest[0]] !== undefined) {
    stdout.write(COMMAND_HELP[rest[0]]);
    return EXIT.ok;
  }
  if (!command || command === "--help" || command === "-h" || command === "help") {
    stdout.write(HELP);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === "--version" || command === "-V") {
    stdout.write(`sluice ${VERSION} (${runtimeName} ${runtimeVersion})\n`);
    return EXIT.ok;
  }
  const help = COMMAND_HELP[command];
  if (help !== undefined && wantsHelp(rest)) {
    stdout.write(help);
    return EXIT.ok;
  }
  const verbose = rest.includes("--verbose") || rest.includes("-v");
  try {
    switch (command) {
      case "run": {
        const { serve, args: runArgs, after } = takeServeFlag(rest);
        const { values, positionals } = parse(runArgs, { ...common, ...journal, ...live }, "run");
        if (positionals.length !== 1) onePipelineFile("run", positionals, after);
        // However the run goes, the serve plugin stops its server when the run ends
        // (unless --keep-serving keeps a finished run on show).
        return await (await import("./commands/run.ts")).runCommand(positionals[0], {
          quiet: Boolean(values.quiet),
          verbose: Boolean(values.verbose),
          home: values.home as string | undefined,
          fresh: Boolean(values.fresh),
          fsync: fsyncFlag(values.fsync),
          adaptive: Boolean(values.adaptive),
          serve: await liveServe(values, serve),
        });
      }
      case "metrics": {
        const { values, positionals } = parse(
          rest,
          { ...common, json: { type: "boolean", default: false }, keep: { type: "string" } },
          "metrics",
        );
        if (positionals.length > 1) throw new UsageError("metrics: expected at most one run id");
        const { metricsCommand } = await import("./commands/metrics.ts");
        return await metricsCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
          keep: values.keep as string | undefined,
        });
      }
      case "sql": {
        const { values, positionals } = parse(
          rest,
          { ...common, json: { type: "boolean", default: false } },
          "sql",
        );
        if (positionals.length !== 1)
          throw new UsageError('sql: expected one query in quotes, e.g. sluice sql "SELECT * FROM runs"');
        const { withoutComments } = await import("../metrics/internal/guard.ts");
        if (/^[\s;]*$/.test(withoutComments(positionals[0])))
          throw new UsageError(
            'sql: the query is empty; give one SELECT, e.g. sluice sql "SELECT * FROM runs"',
          );
        const { sqlCommand } = await import("./commands/metrics.ts");
        return await sqlCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
        });
      }
      case "serve": {
        const { values, positionals } = parse(
          rest,
          { ...common, ...http, port: { type: "string" } },
          "serve",
        );
        if (positionals.length > 0) throw new UsageError(`serve: unexpected argument "${positionals[0]}"`);
        const { serveCommand } = await import("../http/cli.ts");
        // The HTTP layer starts redrives (`POST /api/runs/{id}/redrive`) with the CLI's pipeline loader.
        const { loadPipeline } = await import("./load.ts");
        return await serveCommand({
          ...httpFlags(values, values.port as string | undefined),
          loadPipeline,
        });
      }
      case "resume": {
        const { serve, args: resumeArgs } = takeServeFlag(rest);
        const { values, positionals } = parse(
          resumeArgs,
          { ...common, fsync: journal.fsync, adaptive: journal.adaptive, ...live },
          "resume",
        );
        if (positionals.length !== 1)
          throw new UsageError("resume: expected one run id or pipeline name (see `sluice runs`)");
        return await (await import("./commands/resume.ts")).resumeCommand(positionals[0], {
          quiet: Boolean(values.quiet),
          verbose: Boolean(values.verbose),
          home: values.home as string | undefined,
          fsync: fsyncFlag(values.fsync),
          adaptive: Boolean(values.adaptive),
          serve: await liveServe(values, serve),
        });
      }
      case "runs": {
        const { values, positionals } = parse(
          rest,
          { ...common, json: { type: "boolean", default: false } },
          "runs",
        );
        if (positionals.length > 1) throw new UsageError("runs: expected at most one pipeline name");
        return await (await import("./commands/runs.ts")).runsCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
        });
      }
      case "events": {
        const { values, positionals } = parse(
          rest,
          { ...common, json: { type: "boolean", default: false }, kind: { type: "string", multiple: true } },
          "events",
        );
        if (positionals.length !== 1)
          throw new UsageError("events: expected one run id or pipeline name (see `sluice runs`)");
        return await (await import("./commands/events.ts")).eventsCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
          kinds: (values.kind as string[] | undefined) ?? [],
        });
      }
      case "replay": {
        const { values, positionals } = parse(
          rest,
          { ...common, json: { type: "boolean", default: false } },
          "replay",
        );
        if (positionals.length !== 1)
          throw new UsageError("replay: expected one run id or pipeline name (see `sluice runs`)");
        return await (await import("./commands/replay.ts")).replayCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
        });
      }
      case "dlq": {
        const { values, positionals } = parse(
          rest,
          { ...common, ...dlqFlags, raw: { type: "boolean", default: false }, status: { type: "string" } },
          "dlq",
        );
        return await (await import("./commands/dlq.ts")).dlqCommand(positionals, {
          ...(values as Record<string, string | undefined>),
          home: values.home as string | undefined,
          json: Boolean(values.json),
          raw: Boolean(values.raw),
        });
      }
      case "redrive": {
        const { values, positionals } = parse(
          rest,
          { ...common, ...dlqFlags, pipeline: { type: "string" } },
          "redrive",
        );
        if (positionals.length !== 1)
          throw new UsageError("redrive: expected one run id or pipeline name (see `sluice dlq`)");
        return await (await import("./commands/redrive.ts")).redriveCommand(positionals[0], {
          ...(values as Record<string, string | undefined>),
          home: values.home as string | undefined,
          quiet: Boolean(values.quiet),
          verbose: Boolean(values.verbose),
          json: Boolean(values.json),
        });
      }
      case "worker": {
        const { values, positionals } = parse(
          rest,
          { ...common, nats: { type: "string" }, concurrency: { type: "string" } },
          "worker",
        );
        if (positionals.length > 0) throw new UsageError(`worker: unexpected argument "${positionals[0]}"`);
        const nats = values.nats as string | undefined;
        if (!nats)
          throw new UsageError(
            "worker: --nats URL is required, e.g. `sluice worker --nats nats://127.0.0.1:4222`",
          );
        const c = values.concurrency as string | undefined;
        if (c !== undefined && !/^[1-9]\d*$/.test(c))
          throw new UsageError(`worker: --concurrency: "${c}" is not a whole number of threads >= 1`);
        return await (await import("./commands/worker.ts")).workerCommand({
          nats,
          concurrency: c === undefined ? undefined : Number(c),
          quiet: Boolean(values.quiet),
        });
      }
      case "schema": {
        const { values: v, positionals } = parse(
          rest,
          {
            ...common,
            sample: { type: "string" },
            path: { type: "string" },
            sheet: { type: "string" },
            delimiter: { type: "string" },
            name: { type: "string" },
          },
          "schema",
        );
        if (positionals.length !== 1)
          throw new UsageError("schema: expected one data file, e.g. `sluice schema data/orders.csv`");
        return await (await import("./commands/schema.ts")).schemaCommand(positionals[0], v as SchemaFlags);
      }
      case "bench": {
        if (rest.includes("--help") || rest.includes("-h")) {
          stdout.write((await import("./commands/bench.ts")).BENCH_HELP);
          return EXIT.ok;
        }
        const { values: v, positionals } = parse(
          rest,
          {
            ...common,
            peers: { type: "boolean", default: false },
            peer: { type: "string", multiple: true },
            check: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            scale: { type: "string", default: "small" },
            runs: { type: "string" },
            runtime: { type: "string" },
            html: { type: "string" },
            tolerance: { type: "string" },
            last: { type: "string" },
            "no-record": { type: "boolean", default: false },
            seed: { type: "string" },
            list: { type: "boolean", default: false },
          },
          "bench",
        );
        return await (await import("./commands/bench.ts")).benchCommand({
          targets: positionals,
          peers: Boolean(v.peers),
          peer: (v.peer as string[] | undefined) ?? [],
          check: Boolean(v.check),
          json: Boolean(v.json),
          scale: v.scale as string,
          runs: v.runs as string | undefined,
          runtime: v.runtime as string | undefined,
          html: v.html as string | undefined,
          home: v.home as string | undefined,
          tolerance: v.tolerance as string | undefined,
          last: v.last as string | undefined,
          record: !v["no-record"],
          seed: v.seed as string | undefined,
          list: Boolean(v.list),
          quiet: Boolean(v.quiet),
        });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    stderr.write(`${formatError(e, verbose)}\n`);
    return exitCodeOf(e);
  }
}

setExitCode(await main(argv()));
