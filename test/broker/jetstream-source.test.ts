/**
 * The JetStream source against a real nats-server (test/helpers/nats.ts): a
 * drained stream through a pipeline into a subject with counts that
 * reconcile, a bad body in the dead letter with its stream sequence, acks
 * that follow durable checkpoints (a live feed acks while idle; a new run of
 * the same pipeline reads on from the ack floor), and clear errors for a
 * missing stream and an unreachable server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { pipeline, runPipeline } from "../../src/index.ts";
import { map } from "../../src/operators/index.ts";
import { jetstream as toSubject } from "../../src/sinks/index.ts";
import { jetstream } from "../../src/sources/index.ts";
import { consumerName } from "../../src/sources/jetstream.ts";
import { freePort, type NatsServer, requireNats } from "../helpers/nats.ts";
import {
  ackFloor,
  type Broker,
  freshStream,
  poll,
  publish,
  readStream,
  records,
  useBroker,
} from "./helpers.ts";

let server: NatsServer | undefined;
let b: Broker;
let n = 0;
let home: string;

const root = useBroker("sluice-js-src-", (s, br) => {
  server = s;
  b = br;
});
beforeEach(async (ctx) => {
  requireNats(ctx);
  home = join(root, `home-${++n}`);
  await freshStream(b, "IN", ["in.>"]);
  await freshStream(b, "OUT", ["out.>"]);
});

const url = () => server?.url ?? "";
const bodies = (from: number, to: number) => records(from, to).map((r) => JSON.stringify(r));
const upper = map((r: { i: number; name: string }) => ({ i: r.i, name: r.name.toUpperCase() }));

describe("jetstream source", () => {
  it("round trip: a drained stream through the pipeline into a subject; counts reconcile and all is acked", async () => {
    const last = await publish(b, "in.a", [...bodies(0, 1200), "{not json", ...bodies(1200, 2500)]);
    const p = pipeline("round-trip", { checkpoint: { every: 50 } })
      .from(jetstream({ nats: url(), stream: "IN", until: "drained", batch: 300 }))
      .via(upper)
      .to(toSubject({ nats: url(), subject: "out.records", stream: "OUT" }));
    const s = await runPipeline(p, { home });
    expect(s.error).toBeUndefined();
    expect(s.status).toBe("completed");
    expect(s.rowsOut).toBe(2500);
    expect(s.deadLettered).toBe(1);
    expect(s.rowsIn).toBe(s.rowsOut + s.deadLettered);
    const out = await readStream(b, "OUT");
    expect(out.map((m) => JSON.parse(m.body))).toEqual(
      records(0, 2500).map((r) => ({ i: r.i, name: r.name.toUpperCase() })),
    );
    expect(new Set(out.map((m) => m.msgId)).size).toBe(2500);
    expect(out[0].msgId).toBe(`${s.runId}:0`);
    expect(await ackFloor(b, "IN", consumerName("round-trip"))).toBe(last);
  });

  it("a body that is not JSON goes to the dead letter with its stream and sequence", async () => {
    await publish(b, "in.a", [...bodies(0, 3), "{oops", ...bodies(3, 5)]);
    const p = pipeline("bad-json")
      .from(jetstream({ nats: url(), stream: "IN", until: "drained" }))
      .to(toSubject({ nats: url(), subject: "out.records" }));
    const s = await runPipeline(p, { home });
    expect(s.status).toBe("completed");
    expect(s.deadLettered).toBe(1);
    const letters = readFileSync(s.deadLetterFile ?? "", "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(letters).toHaveLength(1);
    expect(letters[0].position).toEqual({ stream: "IN", seq: 4 });
    expect(letters[0].raw).toBe("{oops");
    expect(letters[0].reason).toMatch(/jetstream\(IN\): message 4 is not JSON/);
    // Acked with its checkpoint like every other message.
    expect(await ackFloor(b, "IN", consumerName("bad-json"))).toBe(6);
    // A redrive parses the fixed body as the source would have.
    const source = jetstream({ nats: url(), stream: "IN" });
    const ctx = { pipeline: "bad-json" } as Parameters<NonNullable<typeof source.reparse>>[2];
    expect(await source.reparse?.('{"i":3}', letters[0].position, ctx)).toEqual({
      records: [{ i: 3 }],
      failures: [],
    });
    expect((await source.reparse?.("{oops", letters[0].position, ctx))?.failures[0].position).toEqual({
      stream: "IN",
      seq: 4,
    });
  });

  it('until "drained" ends on an empty stream, and a new run reads on from the ack floor', async () => {
    const p = pipeline("again")
      .from(jetstream({ nats: url(), stream: "IN", filter: "in.keep", until: "drained" }))
      .to(toSubject({ nats: url(), subject: "out.records" }));
    const empty = await runPipeline(p, { home });
    expect([empty.status, empty.rowsIn]).toEqual(["completed", 0]);
    await publish(b, "in.keep", bodies(0, 10));
    await publish(b, "in.skip", bodies(100, 105));
    const first = await runPipeline(p, { home });
    expect([first.status, first.rowsOut]).toEqual(["completed", 10]);
    await publish(b, "in.keep", bodies(10, 13));
    const second = await runPipeline(p, { home });
    expect([second.status, second.rowsOut]).toEqual(["completed", 3]);
    const out = await readStream(b, "OUT");
    expect(out.map((m) => JSON.parse(m.body).i)).toEqual(records(0, 13).map((r) => r.i));
  });

  it("a live feed reads what arrives, acks it at the next checkpoint while idle, and stops on request", async () => {
    const stop = new AbortController();
    const p = pipeline("live", { checkpoint: { every: 50 } })
      .from(jetstream({ nats: url(), stream: "IN" }))
      .to(toSubject({ nats: url(), subject: "out.records" }));
    const running = runPipeline(p, { home, signal: stop.signal });
    const last = await publish(b, "in.a", bodies(0, 250));
    let floor = 0;
    const acked = await poll(async () => {
      floor = await ackFloor(b, "IN", consumerName("live"));
      return floor === last;
    });
    expect(acked, `ack floor ${floor}, want ${last}`).toBe(true);
    stop.abort();
    const s = await running;
    expect(s.status).toBe("interrupted");
    expect(s.rowsOut).toBe(250);
    expect((await readStream(b, "OUT")).length).toBe(250);
  });

  it("a missing stream fails the run naming the stream and how to create it", async () => {
    const p = pipeline("missing")
      .from(jetstream({ nats: url(), stream: "NOPE", until: "drained" }))
      .to(toSubject({ nats: url(), subject: "out.records" }));
    const s = await runPipeline(p, { home });
    expect(s.status).toBe("failed");
    expect(s.error?.message).toMatch(/stream "NOPE" does not exist on nats:\/\/127\.0\.0\.1:\d+/);
    expect(s.error?.hint).toMatch(/nats stream add NOPE/);
  });

  it("an unreachable server fails the run saying where and what to check", async () => {
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    const p = pipeline("nowhere")
      .from(jetstream({ nats: nowhere, stream: "IN", until: "drained" }))
      .to(toSubject({ nats: url(), subject: "out.records" }));
    const s = await runPipeline(p, { home });
    expect(s.status).toBe("failed");
    expect(s.error?.message).toContain(`cannot reach NATS at ${nowhere}`);
    expect(s.error?.message).toMatch(/is nats-server running with (-js|JetStream)\?/i);
  });
});
