/**
 * @module The CLI's help texts: the overview (`sluice --help`) and one per
 * subcommand (`sluice COMMAND --help` or `-h`), each with its usage, options
 * and an example. Kept apart from `main.ts` so the dispatch stays short; the
 * bench harness keeps its own (`BENCH_HELP` in commands/bench.ts).
 */

export const VERSION = "0.1.0";

const COMMON = `  --home DIR     state directory (default: $SLUICE_HOME or ./.sluice)
  --verbose, -v  stack traces on errors
  --help, -h     this help`;

const RUN_OPTIONS = `  --quiet, -q    no progress line or summary
  --fsync P      journal fsync policy: checkpoint (default), interval or always
  --adaptive     tune the source chunk size and parallelMap workers during the run
                 (each change is a config.changed event with its reason)`;

const SERVE_OPTIONS = `  --host H       address to bind (default 127.0.0.1; any address outside loopback
                 (127.0.0.0/8, ::1, localhost) needs a token)
  --token T      bearer token (default $SLUICE_TOKEN, at least 16 characters);
                 every route but /health then needs it
  --allowed-hosts H,H  more Host names the server answers to (DNS-rebinding guard)
  --allow-writes enable resolving alerts, replacing rules, cancelling the run and
                 (sluice serve) starting redrives over HTTP`;

const LIVE_SERVE = `  --serve [PORT] serve the API and dashboard of the live run (default port 7878,
                 127.0.0.1) until the run ends
  --keep-serving with --serve: keep serving after the run ends, until Ctrl-C
${SERVE_OPTIONS}`;

export const HELP = `sluice ${VERSION} — event-sourced stream processing for TypeScript

Usage:
  sluice run FILE [--quiet] [--verbose] [--home DIR] [--serve [PORT] [--keep-serving]] [--adaptive]
                                                       run a pipeline file (default export); resumes
                                                       its latest run if that crashed or was interrupted
  sluice resume RUN|PIPELINE                           continue a crashed or interrupted run
  sluice runs [PIPELINE] [--json]                      list runs: status, progress, last checkpoint
  sluice events RUN|PIPELINE [--kind K]... [--json]    print a run's journal, one event per line
  sluice replay RUN|PIPELINE [--json]                  rebuild a run's status and totals from its journal
  sluice dlq [RUN|PIPELINE] [--json]                   dead letters grouped by reason: count, first/last, sample
  sluice dlq show RUN [--reason R] [--line N] [--raw]  the letters themselves (--raw: their original input)
  sluice redrive RUN [--pipeline FILE] [--reason R]    re-run a run's dead letters through the fixed pipeline
  sluice metrics [RUN] [--json]                        a run's stages, latency percentiles, alerts, config changes,
                                                       bottleneck, advice
  sluice metrics PIPELINE [--json]                     trends of rows/s, p99 and peak RSS over its last 10 runs
  sluice metrics --keep 30d                            prune runs older than that from the metrics store
  sluice sql "SELECT …" [--json]                       read-only SQL over the metrics store (views: runs, stage_metrics, trends, alerts…)
  sluice serve [--host H] [--port P] [--home DIR]      serve past runs' API and dashboard
  sluice worker --nats URL [--concurrency N]           run cluster parallelMap tasks from NATS JetStream
  sluice schema FILE [--sample N] [--path P] [--sheet S]
                                                       print the zod schema inferred from a CSV, NDJSON,
                                                       JSON or .xlsx file's first rows, to paste and edit
  sluice bench [NAME|FILE…] [--peers] [--scale S] [--check] [--json] [--html FILE]
                                                       run benchmark scenarios
  sluice --version | --help

  A PIPELINE name stands for its latest run. \`sluice COMMAND --help\` shows a command's options.

Options:
  --quiet        no progress line or summary
  --verbose      stack traces on errors
  --home DIR     state directory (default: $SLUICE_HOME or ./.sluice)
  --fresh        start a new run even if the latest one can be resumed
  --fsync P      journal fsync policy: checkpoint (default), interval or always
  --adaptive     tune the source chunk size and parallelMap workers during the run
                 (each change is a config.changed event with its reason)
  --serve [PORT] serve the API and dashboard of the live run (default port 7878, 127.0.0.1)
  --keep-serving with --serve: keep serving after the run ends, until Ctrl-C
  --host H       address to bind (default 127.0.0.1; any address outside loopback needs a token)
  --token T      bearer token (default $SLUICE_TOKEN); every route but /health then needs it
  --allowed-hosts H,H  more Host names the server answers to
  --allow-writes enable resolving alerts, replacing rules, cancelling the run and
                 (sluice serve) starting redrives over HTTP

Runs write only their journals; metrics, sql, serve and bench first load every
journal the metrics store has not read yet.
`;

/** Help per subcommand (bench has its own, `BENCH_HELP`). */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `Usage: sluice run FILE [options]

  Runs the pipeline FILE exports by default, with a journal under the state
  directory. If the pipeline's latest run crashed or was interrupted, it is
  resumed from its last checkpoint (--fresh starts over).

Options:
${RUN_OPTIONS}
  --fresh        start a new run even if the latest one can be resumed
${LIVE_SERVE}
${COMMON}

Example:
  sluice run pipelines/orders.ts --serve 8080
`,
  resume: `Usage: sluice resume RUN|PIPELINE [options]

  Continues a crashed or interrupted run from its last checkpoint. RUN is a
  run id or its unique start or end (see \`sluice runs\`); a PIPELINE name
  means its latest run.

Options:
${RUN_OPTIONS}
${LIVE_SERVE}
${COMMON}

Example:
  sluice resume 20261122T175833426Z-bd6754
`,
  dlq: `Usage: sluice dlq [RUN|PIPELINE] [options]
       sluice dlq show RUN|PIPELINE [options]

  A run's dead letters as a queue. Without RUN: every run with dead letters,
  how many were redriven and how many are still dead. With RUN (a PIPELINE
  name means its latest run that is not a redrive): the letters still dead,
  grouped by stage and reason (values in reasons normalised: the same schema
  error on different rows is one group), with count, first and last position
  and a sample of the raw input. \`show\` prints whole letters: position,
  stage, attempts, reason, error, raw input and record.

Options:
  --stage S      only letters that failed at this stage (source, 2:map, …)
  --reason R     only letters whose reason contains R (as written or normalised)
  --line N       only the letter of input line N
  --index N      only letter N of the run's dead-letter file
  --since T      failed at or after T: a date (2026-12-06T10:00Z) or a time ago (2h)
  --until T      failed before T
  --status S     dead (default), redriven or all
  --raw          show: print only each letter's original input, one per line
  --json         groups as { groups: [{ reason, stage, count, first, last, sample }] };
                 each group also has samples and series (letters per bucket of
                 from..to, bucketMs wide); show: one letter per line
${COMMON}

Example:
  sluice dlq orders --stage source
  sluice dlq show orders --reason schema --raw > bad-rows.csv
`,
  redrive: `Usage: sluice redrive RUN|PIPELINE [options]

  Re-runs the dead letters still dead in RUN through the (fixed) pipeline, as
  a journaled run of its own (kill -9 it and \`sluice resume\` continues it).
  Each letter enters at the stage that rejected it; source-stage letters are
  parsed again from their raw input. Records that now succeed are added to
  the pipeline's sink (files: the target is rewritten atomically as its old
  content plus the new records; DuckDB: rows inserted once), and marked
  redriven; those that fail again stay dead with the new reason and their
  attempts. Without --pipeline the run's own pipeline file is loaded again.

Options:
  --pipeline F   the fixed pipeline file (same pipeline name)
  --stage S      only letters that failed at this stage
  --reason R     only letters whose reason contains R
  --line N       only the letter of input line N
  --index N      only letter N of the run's dead-letter file
  --since T      failed at or after T (a date, or a time ago: 2h)
  --until T      failed before T
  --json         the outcome as one JSON object
  --quiet, -q    no progress line or summary
${COMMON}

Example:
  sluice redrive orders --pipeline pipelines/orders-fixed.ts --reason schema
`,
  worker: `Usage: sluice worker --nats URL [options]

  Runs the tasks of cluster parallelMap stages, pulled from NATS JetStream
  (\`parallelMap(new URL("./score.ts", import.meta.url), { cluster: { nats: URL } })\`).
  Start any number, on any machines; each loads the stage's module from the
  same path on its own machine, runs tasks on local threads, and reports back.
  A task whose worker dies or hangs goes to another worker after the ack wait.
  SIGTERM or Ctrl-C drains: no new task, the ones in hand finish and are
  reported, then it exits (a second signal stops at once).

Options:
  --nats URL          the NATS server with JetStream (several: comma-separated)
  --concurrency N     threads running tasks (default: every core)
  --quiet, -q         no status line

Example:
  nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/js &
  sluice worker --nats nats://127.0.0.1:4222 --concurrency 2
`,
  runs: `Usage: sluice runs [PIPELINE] [options]

  Lists the runs in the state directory (of one pipeline, or all): status,
  rows in, progress and last checkpoint. A run whose parallelMap ran on
  remote workers (sluice worker) gets a table of them: host, pid, runtime,
  tasks, records, busy share, failures, redeliveries, last state. Read-only,
  safe while runs go.

Options:
  --json         one JSON object per run
${COMMON}

Example:
  sluice runs orders --json
`,
  events: `Usage: sluice events RUN|PIPELINE [options]

  Prints a run's journal, one event per line. RUN is a run id or its unique
  start or end; a PIPELINE name means its latest run. Read-only.

Options:
  --kind K       only events of this kind (repeatable), e.g. checkpoint, run.ended
  --json         the stored events as JSON, one per line
${COMMON}

Example:
  sluice events orders --kind checkpoint --kind run.ended
`,
  replay: `Usage: sluice replay RUN|PIPELINE [options]

  Rebuilds a run's status, counts and per-stage totals from its journal alone
  (what the live summary said, across crashes and resumes). RUN is a run id or
  its unique start or end; a PIPELINE name means its latest run.

Options:
  --json         the replayed state as JSON
${COMMON}

Example:
  sluice replay orders
`,
  metrics: `Usage: sluice metrics [RUN] [options]
       sluice metrics PIPELINE [options]
       sluice metrics --keep AGE

  A run's figures from the metrics store (default: the latest run): stages
  with rows/s, latency percentiles, CPU share and what bounds them (cpu, io,
  mixed), resources, alerts, configuration changes, the bottleneck and
  recommendations. Given a pipeline's name: the trends of its rows/s, p99
  and peak RSS over its last 10 completed runs. The store is first caught up
  on every journal under the state directory it has not read yet.

Options:
  --json         the report as JSON
  --keep AGE     delete runs older than AGE (e.g. 30d, 12h) from the metrics store
${COMMON}

Example:
  sluice metrics --keep 30d
`,
  sql: `Usage: sluice sql "QUERY" [options]

  Read-only SQL over the metrics store (DuckDB), first caught up on every
  journal under the state directory. Views: runs, stage_metrics, trends,
  alerts, config_changes and more (docs/metrics.md).

Options:
  --json         the rows as one JSON array
${COMMON}

Example:
  sluice sql "SELECT pipeline, status, rows_in FROM runs ORDER BY started_at DESC LIMIT 5"
`,
  serve: `Usage: sluice serve [options]

  Serves the API, /metrics (Prometheus) and the dashboard of past runs from
  the metrics store, until Ctrl-C. The store is caught up on the journals
  under the state directory at start and every 2 s while serving.
  With --allow-writes, POST /api/runs/{id}/redrive starts \`sluice redrive\`
  in this process (the pipeline file: a path under the working directory,
  or the run's own when it ran here); Ctrl-C interrupts a redrive still
  running, and \`sluice resume\` continues it.

Options:
  --port P       port (default 7878; 0 picks a free one)
${SERVE_OPTIONS}
${COMMON}

Example:
  sluice serve --port 8080
`,
  schema: `Usage: sluice schema FILE [options]

  Prints a zod schema inferred from the first rows of FILE (.csv, .tsv,
  .ndjson, .jsonl, .json or .xlsx) as TypeScript to paste into a pipeline
  file and edit: numbers, integers, booleans, dates and strings; a field
  with empty or null values is .nullable(), one missing from some records
  .optional(). It is the schema \`csv(path, { infer: true })\` (and ndjson,
  json, excel) validate with; records that break it go to the dead letter.
  The first line says how many rows were sampled.

Options:
  --sample N     rows to look at (default 1000)
  --path P       .json: where the array is, e.g. '$.items' (default '$')
  --sheet S      .xlsx: the sheet's name or 1-based position (default the first)
  --delimiter C  .csv: the field delimiter (default "," and a tab for .tsv)
  --name N       the exported constant's name (default from the file name)
${COMMON}

Example:
  sluice schema data/orders.csv --sample 5000
`,
};

/** True when `args` ask for help (`--help` or `-h`). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}
