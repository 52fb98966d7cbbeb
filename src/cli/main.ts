/**
 * @module The `sluice` command line. Subcommands are looked up in one table;
 * each parses its own flags strictly (an unknown flag is a usage error with a
 * clear message and exit code 2).
 */
import { describeError } from "../pipeline/errors.ts";
import { runtimeName, runtimeVersion } from "../runtime/detect.ts";
import { argv, parseArgs, setExitCode, stderr, stdout } from "../runtime/process.ts";
import { runCommand } from "./commands/run.ts";
import { EXIT, exitCodeOf, formatError, UsageError } from "./errors.ts";

const VERSION = "0.1.0";

const HELP = `sluice ${VERSION} — event-sourced stream processing for TypeScript

Usage:
  sluice run FILE [--quiet] [--verbose] [--home DIR]   run a pipeline file (default export)
  sluice --version | --help

Options:
  --quiet        no progress line or summary
  --verbose      stack traces on errors
  --home DIR     state directory (default: $SLUICE_HOME or ./.sluice)
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
        const { values, positionals } = parse(rest, { ...common }, "run");
        if (positionals.length !== 1)
          throw new UsageError(
            "run: expected exactly one pipeline file, e.g. `sluice run examples/orders.ts`",
          );
        return await runCommand(positionals[0], {
          quiet: Boolean(values.quiet),
          verbose: Boolean(values.verbose),
          home: values.home as string | undefined,
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
