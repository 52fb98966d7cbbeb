/**
 * @module The writing side of the JetStream sink (loaded only when a pipeline
 * writes to a subject). Each record is published with the message id
 * `<runId>:<row>` (`row`: its 0-based index in the sink's output, the same
 * on a resume because resume is exact), so the server drops a republished
 * row inside the stream's duplicate window (`duplicate_window`, 2 min by
 * default). Beyond it the journal decides: the commit token is the number of
 * rows published and acked at the checkpoint, and a ledger in the run's
 * directory (`jetstream-<subject>.acked`, one count per written chunk,
 * appended without fsync: a process crash keeps it, a machine crash may lose
 * its tail and then the window de-duplicates) holds the rows acked since; a
 * resumed run skips every row below the larger of the two.
 *
 * Publishing is pipelined: up to `IN_FLIGHT` publishes are outstanding and
 * a chunk's write resolves when the server acked all of its rows.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Chunk } from "../../pipeline/chunk.ts";
import { describeError, SinkError } from "../../pipeline/errors.ts";
import type { SinkContext, SinkWriter } from "../../pipeline/types.ts";
import { type FileWriter, fs, paths } from "../../runtime/fs.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats.ts";

export interface WriterSettings {
  readonly url: string;
  readonly subject: string;
  readonly stream?: string;
  readonly format: "json" | "text";
}

/** What the sink commits at a checkpoint. */
export interface JetStreamToken {
  /** Rows published and acked by the server. */
  readonly rows: number;
}

const IN_FLIGHT = 512;
const encoder = new TextEncoder();

export async function openWriter<A>(s: WriterSettings, ctx: SinkContext): Promise<SinkWriter<A>> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(s.url, { name: `sluice ${ctx.pipeline} sink` });
  } catch (e) {
    throw new SinkError(`jetstream sink: ${describeError(e)}`, { cause: e });
  }
  try {
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    await checkTarget(await jetstreamManager(nc), s);
    const ledger = paths.join(ctx.runDir, `jetstream-${s.subject.replace(/[^A-Za-z0-9_.-]/g, "_")}.acked`);
    const token = ctx.resumeToken as JetStreamToken | undefined;
    const skipBelow = Math.max(token?.rows ?? 0, await ledgerRows(ledger));
    const file = await fs.openWriter(ledger, { append: true });
    return new JetStreamWriter<A>(s, ctx.runId, jetstream(nc), nc, file, token?.rows ?? 0, skipBelow);
  } catch (e) {
    await closeNats(nc);
    throw e instanceof SinkError ? e : new SinkError(`jetstream sink: ${describeError(e)}`, { cause: e });
  }
}

/** Fails with a clear error when the stream is missing or no stream captures the subject. */
async function checkTarget(
  jsm: Awaited<ReturnType<typeof import("@nats-io/jetstream").jetstreamManager>>,
  s: WriterSettings,
): Promise<void> {
  const create = (name: string) =>
    `Create it, e.g. \`nats stream add ${name} --subjects '${s.subject}' --defaults\` or jetstreamManager(nc).streams.add({ name: "${name}", subjects: ["${s.subject}"] }).`;
  if (s.stream) {
    const info = await jsm.streams.info(s.stream).catch(() => undefined);
    if (!info)
      throw new SinkError(`jetstream sink: stream "${s.stream}" does not exist on ${s.url}`, {
        hint: create(s.stream),
      });
  }
  const found = await jsm.streams.find(s.subject).catch(() => undefined);
  if (!found) {
    throw new SinkError(`jetstream sink: no stream on ${s.url} captures subject "${s.subject}"`, {
      hint: create(s.stream ?? "OUT"),
    });
  }
  if (s.stream && found !== s.stream) {
    throw new SinkError(
      `jetstream sink: subject "${s.subject}" goes to stream "${found}", not "${s.stream}"`,
      { hint: `Set stream: "${found}" or add the subject to stream "${s.stream}".` },
    );
  }
}

/** The most rows the ledger says were acked (0 when it is missing; a torn last line is ignored). */
async function ledgerRows(path: string): Promise<number> {
  if (!(await fs.stat(path))) return 0;
  let max = 0;
  for (const line of (await fs.readText(path)).split("\n")) {
    const n = /^\d+$/.test(line) ? Number(line) : 0;
    if (n > max) max = n;
  }
  return max;
}

class JetStreamWriter<A> implements SinkWriter<A> {
  readonly target: string;

  constructor(
    readonly s: WriterSettings,
    readonly runId: string,
    readonly js: JetStreamClient,
    readonly nc: NatsConnection,
    readonly ledger: FileWriter,
    /** Rows acked so far (the next row's index). */
    private rows: number,
    /** Rows below this were acked by an earlier attempt of this run: not published again. */
    readonly skipBelow: number,
  ) {
    this.target = `nats ${s.subject}${s.stream ? ` (stream ${s.stream})` : ""}`;
  }

  async write(chunk: Chunk<A>): Promise<void> {
    const records = chunk.records;
    const first = this.rows;
    const from = Math.max(0, Math.min(records.length, this.skipBelow - first));
    for (let i = from; i < records.length; i += IN_FLIGHT) {
      const end = Math.min(records.length, i + IN_FLIGHT);
      const acks = [];
      for (let j = i; j < end; j++) acks.push(this.#publish(records[j], first + j));
      await Promise.all(acks);
    }
    this.rows = first + records.length;
    if (from < records.length) await this.ledger.write(`${this.rows}\n`);
  }

  #publish(record: A, row: number): Promise<unknown> {
    const body =
      this.s.format === "text" && typeof record === "string" ? record : (JSON.stringify(record) ?? "null");
    return this.js
      .publish(this.s.subject, encoder.encode(body), { msgID: `${this.runId}:${row}`, timeout: 10_000 })
      .catch((e: unknown) => {
        throw new SinkError(
          `jetstream sink: publishing row ${row} to "${this.s.subject}" failed: ${describeError(e)}`,
          {
            cause: e,
          },
        );
      });
  }

  commit(): JetStreamToken {
    return { rows: this.rows };
  }

  async close(): Promise<void> {
    await this.ledger.close().catch(() => {});
    await closeNats(this.nc);
  }

  async abort(): Promise<void> {
    await this.close();
  }
}

/** Drains `nc` (flushing what was published or acked) and closes it; never throws. */
async function closeNats(nc: NatsConnection | undefined): Promise<void> {
  if (!nc || nc.isClosed()) return;
  await nc.drain().catch(() => nc.close().catch(() => {}));
}
