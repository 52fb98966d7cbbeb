/**
 * `runJournaled`, in process: what it journals, how it resumes (latest
 * unfinished run, a named run, a checkpoint taken before any input was
 * read, a final checkpoint), what it refuses (a live lock, a changed
 * definition, a newer journal format) and how a journal write or fsync
 * failure stops the run without recording a checkpoint that is not durable.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, type Operator, OperatorTypeId, pipeline } from "../../src/index.ts";
import { readJournal } from "../../src/journal/journal-reader.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { inspectRun, listRuns, readRunEvents, replayRun } from "../../src/journal/runs.ts";
import { openCaughtUp } from "../../src/metrics/catch-up.ts";
import { aggregate, dedupe, map } from "../../src/operators/index.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { csv, iterable } from "../../src/sources/index.ts";
import { instrumentedFs } from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-runjournal-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `t${++n}`);
  return { home: join(dir, ".s"), out: join(dir, "out.ndjson") };
};

const rows = Array.from({ length: 6000 }, (_, i) => ({
  id: i,
  k: i % 500,
  cat: `c${i % 7}`,
  amount: i % 100,
}));
const expectedDedupe = rows.filter((r, i) => rows.findIndex((x) => x.k === r.k) === i);
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

/** Stops the source after `after` records by aborting the run (as Ctrl-C does). */
function abortAfter(controller: AbortController, after: number): Operator<unknown, unknown> {
  let seen = 0;
  return {
    [OperatorTypeId]: true,
    name: "tap",
    cardinality: "one",
    make: () => ({
      type: "chunk",
      process(records) {
        seen += records.length;
        if (seen >= after) controller.abort();
        return records;
      },
    }),
  };
}

const dd = (out: string, stop?: { controller: AbortController; after: number }) =>
  pipeline("dd", { checkpoint: { rows: 500 } })
    .from(iterable(rows, { chunkSize: 100 }))
    .via(
      abortAfter(stop?.controller ?? new AbortController(), stop?.after ?? Number.POSITIVE_INFINITY),
      dedupe((r: (typeof rows)[number]) => r.k),
    )
    .to(ndjson(out));

describe("runJournaled", () => {
  it("journals durable events; replay from the journal equals the live summary", async () => {
    const { home, out } = fresh();
    const s = await runJournaled(dd(out), { home });
    expect(s.status).toBe("completed");
    expect(lines(out)).toEqual(expectedDedupe);
    const kinds = new Set<string>();
    for await (const { event } of readRunEvents(s.runDir)) kinds.add(event.kind);
    expect(kinds).toContain("run.started");
    expect(kinds).toContain("checkpoint");
    expect(kinds).toContain("stage.progress");
    expect(kinds).toContain("run.ended");
    expect(kinds).not.toContain("run.progress"); // live-only
    const { state } = await replayRun(s.runDir);
    expect(state).toMatchObject({
      status: "completed",
      rowsIn: s.rowsIn,
      rowsOut: s.rowsOut,
      filtered: s.filtered,
      deadLettered: s.deadLettered,
    });
    const counts = (x: {
      stage: string;
      rowsIn: number;
      rowsOut: number;
      filtered: number;
      deadLettered: number;
    }) => ({
      stage: x.stage,
      rowsIn: x.rowsIn,
      rowsOut: x.rowsOut,
      filtered: x.filtered,
      deadLettered: x.deadLettered,
    });
    expect(state?.stages.map(counts)).toEqual(s.stages.map(counts));
    // Private state: directories 0700, files 0600.
    expect(statSync(s.runDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(s.runDir, "journal")).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(join(s.runDir, "journal"))) {
      expect(statSync(join(s.runDir, "journal", f)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(s.runDir, "run.json")).mode & 0o777).toBe(0o600);
  });

  it("resumes an interrupted run (the latest unfinished one) to the uninterrupted output", async () => {
    const { home, out } = fresh();
    const controller = new AbortController();
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "metrics.duckdb"), ""); // other files in the state directory are not pipelines
    const first = await runJournaled(dd(out, { controller, after: 2500 }), {
      home,
      signal: controller.signal,
    });
    expect(first.status).toBe("interrupted");
    expect(existsSync(out)).toBe(false); // an interrupted run publishes nothing
    const info = await inspectRun({ pipeline: "dd", runId: first.runId, runDir: first.runDir });
    expect(info).toMatchObject({ status: "interrupted", resumable: true });
    let resumedFrom: number | undefined;
    const second = await runJournaled(dd(out), { home, onResume: (r) => (resumedFrom = r.checkpoint?.id) });
    expect(second.runId).toBe(first.runId);
    expect(resumedFrom).toBe(info.checkpoint?.id);
    expect(second.status).toBe("completed");
    expect(second.rowsIn).toBe(6000);
    expect(lines(out)).toEqual(expectedDedupe);
    const { state } = await replayRun(second.runDir);
    expect(state).toMatchObject({
      attempts: 2,
      rowsIn: second.rowsIn,
      rowsOut: second.rowsOut,
      filtered: second.filtered,
    });
  });

  it("a new run that fails before it starts (input missing) leaves no run; the fixed pipeline starts afresh", async () => {
    const { home, out } = fresh();
    const input = join(dirname(out), "orders.csv");
    const typo = pipeline("typo")
      .from(csv(join(dirname(out), "order.csv"), { header: true }))
      .to(ndjson(out));
    const failed = await runJournaled(typo, { home, sampleResources: false });
    expect(failed.status).toBe("failed");
    expect(failed.error?._tag).toBe("SourceError");
    expect(existsSync(failed.runDir)).toBe(false);
    expect(await listRuns(home)).toEqual([]);
    writeFileSync(input, "id\n1\n2\n");
    const fixed = pipeline("typo")
      .from(csv(input, { header: true }))
      .to(ndjson(out));
    const ok = await runJournaled(fixed, { home, sampleResources: false });
    expect(ok.status, ok.error?.message).toBe("completed");
    expect(ok.runId).not.toBe(failed.runId);
    expect(ok.rowsOut).toBe(2);
  });

  it("a new run given an existing run's id that fails before it starts leaves that run's directory", async () => {
    const { home, out } = fresh();
    mkdirSync(dirname(out), { recursive: true });
    const input = join(dirname(out), "orders.csv");
    writeFileSync(input, "id\n1\n");
    const ok = await runJournaled(
      pipeline("keep")
        .from(csv(input, { header: true }))
        .to(ndjson(out)),
      {
        home,
        runId: "20260101T000000000Z-aaaaaa",
        sampleResources: false,
      },
    );
    expect(ok.status, ok.error?.message).toBe("completed");
    const typo = pipeline("keep")
      .from(csv(join(dirname(out), "missing.csv"), { header: true }))
      .to(ndjson(out));
    const failed = await runJournaled(typo, { home, runId: ok.runId, resume: false, sampleResources: false });
    expect(failed.status).toBe("failed");
    expect(existsSync(join(ok.runDir, "journal"))).toBe(true);
    expect((await listRuns(home)).map((r) => r.runId)).toEqual([ok.runId]);
  });

  it("refuses to resume from a file shorter than where the run stopped, saying it changed", async () => {
    const { home, out } = fresh();
    const input = join(dirname(out), "orders.csv");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(input, `id\n${Array.from({ length: 20_000 }, (_, i) => i).join("\n")}\n`);
    const stop = new AbortController();
    const p = (stopAt?: number) =>
      pipeline("shrunk", { checkpoint: { rows: 500 } })
        .from(csv(input, { header: true, bufferSize: "4KiB" }))
        .via(
          map((r: { id: string }) => {
            if (Number(r.id) === stopAt) stop.abort();
            return r;
          }),
        )
        .to(ndjson(out));
    const first = await runJournaled(p(15_000), { home, signal: stop.signal, sampleResources: false });
    expect(first.status).toBe("interrupted");
    writeFileSync(input, "id\n1\n");
    const again = await runJournaled(p(), { home, sampleResources: false });
    expect(again.runId).toBe(first.runId);
    expect(again.status).toBe("failed");
    expect(again.error?._tag).toBe("SourceError");
    expect(again.error?.message).toMatch(
      /^csv source: cannot resume .*orders\.csv: it is 5 bytes, shorter than where the run stopped \(byte \d+, line \d+\); it changed since the checkpoint$/,
    );
  });

  it("resumes a run interrupted before it read anything (checkpoint without a source offset)", async () => {
    const { home, out } = fresh();
    const controller = new AbortController();
    controller.abort();
    const first = await runJournaled(dd(out), { home, signal: controller.signal });
    expect(first.status).toBe("interrupted");
    const second = await runJournaled(dd(out), { home });
    expect(second.runId).toBe(first.runId);
    expect(lines(out)).toEqual(expectedDedupe);
  });

  it("resume: false starts a new run; resume: id continues that run; a completed run is not resumed", async () => {
    const { home, out } = fresh();
    const controller = new AbortController();
    controller.abort();
    const a = await runJournaled(dd(out), { home, signal: controller.signal });
    const b = await runJournaled(dd(out), { home, resume: false });
    expect(b.runId).not.toBe(a.runId);
    const c = await runJournaled(dd(out), { home }); // latest (b) completed → new run
    expect(c.runId).not.toBe(a.runId);
    expect(c.runId).not.toBe(b.runId);
    const d = await runJournaled(dd(out), { home, resume: a.runId });
    expect(d.runId).toBe(a.runId);
    expect(d.status).toBe("completed");
    await expect(runJournaled(dd(out), { home, resume: a.runId })).rejects.toThrow(/already completed/);
    expect((await listRuns(home)).map((r) => r.status)).toEqual(["completed", "completed", "completed"]);
  });

  it("does not emit an aggregate's results twice when resumed from its final checkpoint", async () => {
    const { home, out } = fresh();
    const agg = () =>
      pipeline("agg", { checkpoint: { rows: 1000 } })
        .from(iterable(rows, { chunkSize: 250 }))
        .via(
          aggregate({
            key: (r: (typeof rows)[number]) => r.cat,
            aggregate: { n: "count", total: ["sum", "amount"] },
          }),
        )
        .to(ndjson(out));
    // The final checkpoint is durable, then the run fails before the sink closes.
    const first = await runJournaled(agg(), {
      home,
      onCheckpoint: async (cp) => {
        if (cp.operatorState.$final) throw new Error("crash after the final checkpoint");
      },
    });
    expect(first.status).toBe("failed");
    const last = await (await readJournal(join(first.runDir, "journal")))?.lastOfKind("checkpoint");
    expect((last?.value as EventOf<"checkpoint"> | undefined)?.operatorState.$final).toBe(true);
    // A failed run is continued on request (`sluice resume RUN`), not by a plain run.
    const second = await runJournaled(agg(), { home, resume: first.runId });
    expect(second.runId).toBe(first.runId);
    expect(second.status).toBe("completed");
    const got = lines(out);
    expect(got).toHaveLength(7);
    expect(got.reduce((a, g) => a + g.n, 0)).toBe(6000);
  });

  it("refuses a run whose pipeline definition changed, and a run locked by a live process", async () => {
    const { home, out } = fresh();
    const controller = new AbortController();
    controller.abort();
    const a = await runJournaled(dd(out), { home, signal: controller.signal });
    const changed = pipeline("dd")
      .from(iterable(rows))
      .via(map((r) => r))
      .to(ndjson(out));
    await expect(runJournaled(changed, { home })).rejects.toThrow(
      new RegExp(`pipeline "dd" changed since run ${a.runId} was checkpointed`),
    );
    // A lock naming a live process (this test runner's parent) on this host.
    const lockPath = join(a.runDir, "lock");
    const { hostname } = await import("node:os");
    writeFileSync(lockPath, JSON.stringify({ pid: process.ppid, host: hostname(), since: 0, token: "x" }));
    await expect(runJournaled(dd(out), { home })).rejects.toThrow(/is still running \(process \d+/);
    rmSync(lockPath);
    expect((await runJournaled(dd(out), { home })).status).toBe("completed");
  });

  it("refuses a journal written by a newer format, clearly", async () => {
    const { home, out } = fresh();
    const controller = new AbortController();
    controller.abort();
    const a = await runJournaled(dd(out), { home, signal: controller.signal });
    const seg = join(a.runDir, "journal", "00000000000000000000.seg");
    const bytes = readFileSync(seg);
    bytes[8] = 9; // format version
    writeFileSync(seg, bytes);
    await expect(runJournaled(dd(out), { home })).rejects.toThrow(/format version 9.*reads versions up to 1/);
    const [info] = await listRuns(home);
    expect(info.status).toBe("unreadable");
  });

  it("a run directory that cannot be looked into is listed as unreadable; the other runs are read", async () => {
    const { home, out } = fresh();
    const ok = await runJournaled(dd(out), { home, sampleResources: false });
    // Stands in for another user's run (mode 0700), which root, running the tests, could read.
    const blocked = join(dirname(ok.runDir), "20200101T000000000Z-000000");
    writeFileSync(blocked, "");
    const runs = await listRuns(home);
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      ["20200101T000000000Z-000000", "unreadable"],
      [ok.runId, "completed"],
    ]);
    expect(runs[0].error).toMatch(/ENOTDIR/);
    const warnings: string[] = [];
    const { store, caughtUp } = await openCaughtUp(home, { onWarning: (m) => warnings.push(m) });
    try {
      expect(caughtUp).toMatchObject({ runs: 2, skipped: 1 });
      expect(warnings).toEqual([expect.stringMatching(/^run 20200101T000000000Z-000000 .*not loaded/)]);
      expect((await store.query("SELECT run_id FROM runs")).rows).toEqual([{ run_id: ok.runId }]);
    } finally {
      await store.close();
    }
  });

  it.each([
    ["fsync", { failDatasyncAt: 4 }],
    ["write", { failWriteAt: 3 }],
  ])(
    "a journal %s failure (ENOSPC) stops the run with a StateError and records no checkpoint it could not sync",
    async (what, plan) => {
      const { home, out } = fresh();
      const bus = new EventBus();
      const seen: number[] = [];
      bus.subscribe((e) => e.kind === "checkpoint" && seen.push(e.id));
      const { fs } = instrumentedFs(plan);
      const s = await runJournaled(dd(out), { home, bus, journal: { fs } });
      expect(s.status).toBe("failed");
      expect(s.error?._tag).toBe("StateError");
      expect(s.error?.message).toMatch(
        new RegExp(`journal ${what} failed for .*ENOSPC.*the run stopped before checkpoint (\\d+)`),
      );
      expect(s.error?.hint).toMatch(/Free disk space .* continues from (checkpoint \d+|the start)/);
      const failedAt = Number(/before checkpoint (\d+)/.exec(s.error?.message ?? "")?.[1]);
      expect(seen.every((id) => id < failedAt)).toBe(true); // nobody saw the checkpoint that is not on disk
      expect(s.rowsIn).toBeLessThan(6000); // it stopped
      // Space freed: the same call resumes from the last durable checkpoint.
      const again = await runJournaled(dd(out), { home });
      expect(again.runId).toBe(s.runId);
      expect(again.status).toBe("completed");
      expect(lines(out)).toEqual(expectedDedupe);
    },
  );

  it("journals dead letters holding values MessagePack cannot take (bigint, undefined)", async () => {
    const { home, out } = fresh();
    const p = pipeline("dl")
      .from(iterable([{ x: 1n }, { x: 2n, y: undefined }, { x: 3n }]))
      .via(
        map((r: { x: bigint }) => {
          if (r.x === 2n) throw new Error("bad");
          return { x: Number(r.x), gone: undefined };
        }),
      )
      .to(ndjson(out));
    const s = await runJournaled(p, { home });
    expect(s.status).toBe("completed");
    expect(s.deadLettered).toBe(1);
    const dl = [];
    for await (const { event } of readRunEvents(s.runDir, { kinds: ["dead.letter"] })) dl.push(event);
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({
      kind: "dead.letter",
      record: { x: "2" },
      reason: expect.stringContaining("bad"),
    });
  });

  it("reads a journal's tail after a position (re-ingesting what came after)", async () => {
    const { home, out } = fresh();
    const s = await runJournaled(dd(out), { home });
    const all = [];
    for await (const e of readRunEvents(s.runDir)) all.push(e);
    const mid = all[Math.floor(all.length / 2)];
    const tail = [];
    for await (const e of readRunEvents(s.runDir, { after: mid.next })) tail.push(e.event);
    expect(tail).toEqual(all.slice(all.indexOf(mid) + 1).map((e) => e.event));
  });
});
