/**
 * The broker pipeline through the CLI (test/fixtures/pipelines/broker.ts):
 * kill -9 mid-run, then resume — the output stream holds every record once,
 * in order, and the input consumer never acked past the checkpoint the
 * journal had made durable; and the same pipeline on node, bun and deno
 * gives the same output.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { listRuns } from "../../src/journal/runs.ts";
import { consumerName } from "../../src/sources/jetstream.ts";
import { run, start } from "../faults/run-helpers.ts";
import { type NatsServer, requireNats } from "../helpers/nats.ts";
import { type RuntimeName, repo } from "../helpers/runtimes.ts";
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

const fixture = join(repo, "test/fixtures/pipelines/broker.ts");
const ROWS = 3000;
let server: NatsServer | undefined;
let b: Broker;

const root = useBroker("sluice-js-cli-", (s, br) => {
  server = s;
  b = br;
});
beforeEach((ctx) => requireNats(ctx));

const expected = (n: number) => records(0, n).map((r) => ({ i: r.i, name: r.name.toUpperCase() }));
const bodies = (from: number, to: number) => records(from, to).map((r) => JSON.stringify(r));

describe("jetstream pipeline through the CLI", () => {
  it("kill -9 mid-run, resume: every record once on the output stream, acks never past the durable checkpoint", async () => {
    await freshStream(b, "IN", ["in.>"]);
    await freshStream(b, "OUT", ["out.>"]);
    const last = await publish(b, "in.a", [...bodies(0, 1500), "{torn", ...bodies(1500, ROWS)]);
    const cwd = mkdtempSync(join(root, "kill-"));
    const home = join(cwd, ".s");
    const env = { SLUICE_NATS: server?.url ?? "", SLUICE_TEST_DELAY: "1000", SLUICE_TEST_CP: "100" };
    const child = start("node", ["run", fixture, "--quiet", "--home", home], { cwd, env });
    // Kill once a checkpoint is durable and the sink has published past it.
    const midRun = await poll(async () => {
      if (child.done()) return true;
      const cp = (await listRuns(home, "broker")).at(-1)?.checkpoint;
      const published = (await b.jsm.streams.info("OUT")).state.messages;
      return cp !== undefined && cp.rowsOut > 0 && published > cp.rowsOut;
    });
    expect(midRun && !child.done(), "the run ended before it could be killed: make it slower").toBe(true);
    child.proc.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");

    const killed = (await listRuns(home, "broker")).at(-1);
    expect(killed?.status).toBe("crashed");
    const cpSeq = Number((killed?.checkpoint?.sourceOffset as { seq?: number } | undefined)?.seq ?? 0);
    expect(cpSeq).toBeLessThan(last);
    expect(await ackFloor(b, "IN", consumerName("broker"))).toBeLessThanOrEqual(cpSeq);

    const resumed = await run("node", ["run", fixture, "--home", home], {
      cwd,
      env: { ...env, SLUICE_TEST_DELAY: "0" },
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming run ${killed?.runId} from checkpoint \\d+`));
    const done = (await listRuns(home, "broker")).at(-1);
    expect(done?.status).toBe("completed");
    expect(done?.ended?.deadLettered).toBe(1);

    const out = await readStream(b, "OUT");
    expect(out.map((m) => JSON.parse(m.body))).toEqual(expected(ROWS));
    expect(out.map((m) => m.msgId)).toEqual(records(0, ROWS).map((r) => `${killed?.runId}:${r.i}`));
    expect(await ackFloor(b, "IN", consumerName("broker"))).toBe(last);
  }, 120_000);

  it("node, bun and deno read the stream and publish the same output", async () => {
    await freshStream(b, "IN", ["in.>"]);
    await publish(b, "in.a", bodies(0, 500));
    const outputs: Record<string, unknown[]> = {};
    for (const rt of ["node", "bun", "deno"] as RuntimeName[]) {
      await freshStream(b, `OUT_${rt}`, [`${rt}.records`]);
      const cwd = mkdtempSync(join(root, `${rt}-`));
      const r = await run(rt, ["run", fixture, "--home", join(cwd, ".s")], {
        cwd,
        env: {
          SLUICE_NATS: server?.url ?? "",
          SLUICE_TEST_CONSUMER: `rt-${rt}`,
          SLUICE_TEST_SUBJECT: `${rt}.records`,
          SLUICE_TEST_OUT_STREAM: `OUT_${rt}`,
        },
      });
      expect(r.code, `${rt}:\n${r.stderr}`).toBe(0);
      outputs[rt] = (await readStream(b, `OUT_${rt}`)).map((m) => JSON.parse(m.body));
      expect(await ackFloor(b, "IN", `rt-${rt}`)).toBe(500);
    }
    expect(outputs.node).toEqual(expected(500));
    expect(outputs.bun).toEqual(outputs.node);
    expect(outputs.deno).toEqual(outputs.node);
  }, 240_000);
});
