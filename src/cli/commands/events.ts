/**
 * @module `sluice events RUN|PIPELINE [--kind K…] [--json]`: a run's journal
 * (a pipeline name: its latest run), one event per line — readable text by default, the stored event as JSON with
 * `--json`. Read-only (safe on a live or crashed run).
 */

import type { SluiceEvent } from "../../events/schema.ts";
import { eventKinds } from "../../events/schema.ts";
import { findRun, readRunEvents } from "../../journal/runs.ts";
import { stateHome } from "../../pipeline/run.ts";
import { stderr, stdout } from "../../runtime/process.ts";
import { EXIT, UsageError } from "../errors.ts";

export interface EventsFlags {
  readonly home?: string;
  readonly kinds: readonly string[];
  readonly json: boolean;
}

const SKIP = new Set(["kind", "ts", "runId", "pipeline"]);

export async function eventsCommand(id: string, flags: EventsFlags): Promise<number> {
  for (const k of flags.kinds) {
    if (!(eventKinds as string[]).includes(k)) {
      throw new UsageError(`events: unknown kind "${k}"; kinds are ${eventKinds.join(", ")}`);
    }
  }
  const ref = await findRun(stateHome(flags.home), id);
  let buf = "";
  let invalid = 0;
  let shown = 0;
  for await (const { event } of readRunEvents(ref.runDir, {
    kinds: flags.kinds,
    onInvalid: () => invalid++,
    // Damaged bytes lose the events in them, not the rest of the run.
    onCorruption: (e) => stderr.write(`sluice: warning: ${e.message} The other events are shown.\n`),
  })) {
    shown++;
    buf += `${flags.json ? JSON.stringify(event) : text(event)}\n`;
    if (buf.length > 1 << 16) {
      stdout.write(buf);
      buf = "";
    }
  }
  stdout.write(buf);
  if (invalid) stderr.write(`sluice: ${invalid} journal record(s) are not valid events and were skipped\n`);
  // An empty answer says why (stdout stays empty, for scripts).
  if (shown === 0)
    stderr.write(
      flags.kinds.length
        ? `sluice: run ${ref.runId} has no ${flags.kinds.join(" or ")} event\n`
        : `sluice: run ${ref.runId} has journaled no event (it stopped before its first one)\n`,
    );
  return EXIT.ok;
}

function text(e: SluiceEvent): string {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(e)) {
    if (SKIP.has(k) || v === undefined) continue;
    const s = typeof v === "string" ? v : JSON.stringify(v);
    fields.push(`${k}=${s.length > 100 ? `${s.slice(0, 99)}…` : s}`);
  }
  return `${new Date(e.ts).toISOString()}  ${e.kind.padEnd(16)} ${fields.join(" ")}`;
}
