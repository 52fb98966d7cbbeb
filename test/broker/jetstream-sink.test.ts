/**
 * The JetStream sink against a real nats-server: message ids `<runId>:<row>`,
 * a repeat inside the duplicate window dropped by the server, rows the
 * ledger says were acked never published again by a resumed writer (counted
 * on a core subscription, which sees every publish, duplicate or not), and
 * a clear error for a missing stream.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subscription } from "@nats-io/nats-core";
import { beforeEach, describe, expect, it } from "vitest";
import { makeChunk } from "../../src/pipeline/chunk.ts";
import type { SinkContext } from "../../src/pipeline/types.ts";
import { jetstream } from "../../src/sinks/index.ts";
import { type NatsServer, requireNats } from "../helpers/nats.ts";
import { type Broker, freshStream, readStream, useBroker } from "./helpers.ts";

let server: NatsServer | undefined;
let b: Broker;
let n = 0;

const root = useBroker("sluice-js-sink-", (s, br) => {
  server = s;
  b = br;
});
beforeEach(async (ctx) => {
  requireNats(ctx);
  await freshStream(b, "OUT", ["out.>"]);
});

/** The context the engine would give the sink: only what the sink reads. */
function sinkContext(runId: string, runDir: string, resumeToken?: unknown): SinkContext {
  mkdirSync(runDir, { recursive: true });
  return { runId, runDir, pipeline: "sink-test", resumeToken } as unknown as SinkContext;
}

/** Counts every message published on `subject` (a core subscription sees duplicates too). */
function countPublishes(subject: string): { sub: Subscription; count: () => number } {
  let seen = 0;
  const sub = b.nc.subscribe(subject, {
    callback: () => {
      seen++;
    },
  });
  return { sub, count: () => seen };
}

const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ row: from + k }));

describe("jetstream sink", () => {
  it("publishes each record with the message id <runId>:<row> and commits the rows acked", async () => {
    const dir = join(root, `run-${++n}`);
    const w = await jetstream({ nats: server?.url ?? "", subject: "out.a" }).open(sinkContext("R1", dir));
    await w.write(makeChunk(rows(0, 700), { seq: 0 }));
    await w.write(makeChunk(rows(700, 1000), { seq: 1 }));
    expect(await w.commit(1)).toEqual({ rows: 1000 });
    await w.close();
    const out = await readStream(b, "OUT");
    expect(out.map((m) => m.msgId)).toEqual(rows(0, 1000).map((r) => `R1:${r.row}`));
    expect(out.map((m) => JSON.parse(m.body))).toEqual(rows(0, 1000));
    expect(readFileSync(join(dir, "jetstream-out.a.acked"), "utf8")).toBe("700\n1000\n");
  });

  it("a resumed writer skips the rows the ledger says were acked after its checkpoint", async () => {
    const dir = join(root, `run-${++n}`);
    const sink = jetstream({ nats: server?.url ?? "", subject: "out.a", stream: "OUT" });
    const first = await sink.open(sinkContext("R2", dir));
    await first.write(makeChunk(rows(0, 10), { seq: 0 }));
    const token = await first.commit(1);
    await first.write(makeChunk(rows(10, 20), { seq: 1 }));
    await first.abort?.(); // a crash after the checkpoint at 10 rows; 20 were acked
    const seen = countPublishes("out.a");
    const resumed = await sink.open(sinkContext("R2", dir, token));
    await resumed.write(makeChunk(rows(10, 20), { seq: 1 })); // the same rows again: resume is exact
    await resumed.write(makeChunk(rows(20, 25), { seq: 2 }));
    expect(await resumed.commit(2)).toEqual({ rows: 25 });
    await resumed.close();
    await b.nc.flush();
    seen.sub.unsubscribe();
    expect(seen.count()).toBe(5); // only rows 20..24 were published again
    const out = await readStream(b, "OUT");
    expect(out.map((m) => JSON.parse(m.body).row)).toEqual(rows(0, 25).map((r) => r.row));
  });

  it("without the ledger, a republished row inside the duplicate window is dropped by the server", async () => {
    const sink = jetstream({ nats: server?.url ?? "", subject: "out.a" });
    const first = await sink.open(sinkContext("R3", join(root, `run-${++n}`)));
    await first.write(makeChunk(rows(0, 50), { seq: 0 }));
    await first.close();
    const seen = countPublishes("out.a");
    const again = await sink.open(sinkContext("R3", join(root, `run-${++n}`), { rows: 0 }));
    await again.write(makeChunk(rows(0, 50), { seq: 0 }));
    await again.close();
    await b.nc.flush();
    seen.sub.unsubscribe();
    expect(seen.count()).toBe(50); // published again …
    expect((await readStream(b, "OUT")).length).toBe(50); // … and stored once
  });

  it("a missing stream, or a subject no stream captures, fails at open saying what to create", async () => {
    const url = server?.url ?? "";
    const dir = join(root, `run-${++n}`);
    await expect(
      jetstream({ nats: url, subject: "out.a", stream: "NOPE" }).open(sinkContext("R4", dir)),
    ).rejects.toThrow(/stream "NOPE" does not exist/);
    await expect(
      jetstream({ nats: url, subject: "elsewhere.a" }).open(sinkContext("R4", dir)),
    ).rejects.toThrow(/no stream on nats:\/\/127\.0\.0\.1:\d+ captures subject "elsewhere\.a"/);
  });
});
