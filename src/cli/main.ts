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
import { EXIT, exitCodeOf, formatError, UsageError } from "./errors.ts";

const VERSION = "0.1.0";

const HELP = `sluice ${VERSION} — event-sourced stream processing for TypeScript

Usage:
  sluice run FILE [--quiet] [--verbose] [--home DIR] [--serve [PORT]] [--adaptive]
                                                       run a pipeline file (default export); resumes
                                                       its latest run if that crashed or was interrupted
  sluice resume RUN                                    continue a crashed or interrupted run
  sluice runs [PIPELINE] [--json]                      list runs: status, progress, last checkpoint
  sluice events RUN [--kind K]... [--json]             print a run's journal, one event per line
  sluice replay RUN [--json]                           rebuild a run's status and totals from its journal
  sluice metrics [RUN] [--json]                        a run's stages, latency percentiles, alerts, config changes,
                                                       bottleneck, advice
  sluice metrics PIPELINE [--json]                     trends of rows/s, p99 and peak RSS over its last 10 runs
  sluice metrics --keep 30d                            prune runs older than that from the metrics store
  sluice sql "SELECT …" [--json]                       read-only SQL over the metrics store (views: runs, stage_metrics, trends, alerts…)
  sluice serve [--host H] [--port P] [--home DIR]      serve past runs' API and dashboard
  sluice bench [NAME|FILE…] [--peers] [--scale S] [--check] [--json] [--html FILE]
                                                       run benchmark scenarios (sluice bench --help)
  sluice --version | --help

Options:
  --quiet        no progress line or summary
  --verbose      stack traces on errors
  --home DIR     state directory (default: $SLUICE_HOME or ./.sluice)
  --fresh        start a new run even if the latest one can be resumed
  --fsync P      journal fsync policy: checkpoint (default), interval or always
  --adaptive     tune the source chunk size and parallelMap workers during the run
                 (each change is a config.changed event with its reason)
  --serve [PORT] serve the API and dashboard of the live run (default port 7878, 127.0.0.1)
  --host H       address to bind (default 127.0.0.1; any other needs a token)
  --token T      bearer token (default $SLUICE_TOKEN); every route but /health then needs it
  --allow-writes enable resolving alerts, replacing rules and cancelling the run over HTTP
`;

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
} as const;

/** `--serve` takes an optional port: `--serve`, `--serve 8080` or `--serve=8080`. */
function takeServeFlag(args: string[]): { serve?: string; args: string[] } {
  const out: string[] = [];
  let serve: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--serve") {
      serve = /^\d+$/.test(args[i + 1] ?? "") ? args[++i] : "";
    } else if (a.startsWith("--serve=")) serve = a.slice("--serve=".length);
    else out.push(a);
  }
  return { serve, args: out };
}

function httpFlags(values: Record<string, unknown>, port: string | undefined) {
  if (port !== undefined && port !== "" && !/^\d+$/.test(port))
    throw new UsageError(`--port/--serve: "${port}" is not a port number`);
  return {
    host: values.host as string | undefined,
    port: port ? Number(port) : undefined,
    token: values.token as string | undefined,
    allowWrites: Boolean(values["allow-writes"]),
    home: values.home as string | undefined,
    quiet: Boolean(values.quiet),
  };
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    stdout.write(HELP);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === "--version" || command === "-V") {
    stdout.write(`sluice ${VERSION} (${runtimeName} ${runtimeVersion})\n`);
    return EXIT.ok;
  }
  const verbose = rest.includes("--verbose") || rest.includes("-v");
  try {
    switch (command) {
      case "run": {
        const { serve, args: runArgs } = takeServeFlag(rest);
        const { values, positionals } = parse(runArgs, { ...common, ...journal, ...http }, "run");
        if (positionals.length !== 1)
          throw new UsageError(
            "run: expected exactly one pipeline file, e.g. `sluice run examples/orders.ts`",
          );
        return await (await import("./commands/run.ts")).runCommand(
          positionals[0],
          {
            quiet: Boolean(values.quiet),
            verbose: Boolean(values.verbose),
            home: values.home as string | undefined,
            fresh: Boolean(values.fresh),
            fsync: fsyncFlag(values.fsync),
            adaptive: Boolean(values.adaptive),
          },
          // The HTTP layer (and DuckDB) load only when asked for.
          serve === undefined
            ? undefined
            : (await import("../http/cli.ts")).serveHook(httpFlags(values, serve)),
        );
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
        return await serveCommand(httpFlags(values, values.port as string | undefined));
      }
      case "resume": {
        const { serve, args: resumeArgs } = takeServeFlag(rest);
        const { values, positionals } = parse(
          resumeArgs,
          { ...common, fsync: journal.fsync, adaptive: journal.adaptive, ...http },
          "resume",
        );
        if (positionals.length !== 1) throw new UsageError("resume: expected one run id (see `sluice runs`)");
        return await (await import("./commands/resume.ts")).resumeCommand(
          positionals[0],
          {
            quiet: Boolean(values.quiet),
            verbose: Boolean(values.verbose),
            home: values.home as string | undefined,
            fsync: fsyncFlag(values.fsync),
            adaptive: Boolean(values.adaptive),
          },
          serve === undefined
            ? undefined
            : (await import("../http/cli.ts")).serveHook(httpFlags(values, serve)),
        );
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
        if (positionals.length !== 1) throw new UsageError("events: expected one run id (see `sluice runs`)");
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
        if (positionals.length !== 1) throw new UsageError("replay: expected one run id (see `sluice runs`)");
        return await (await import("./commands/replay.ts")).replayCommand(positionals[0], {
          home: values.home as string | undefined,
          json: Boolean(values.json),
        });
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
