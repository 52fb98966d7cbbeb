import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EventBus, type EventOf, pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { ndjson } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-ndjson-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ndjson source", () => {
  it("reads values, dead-letters invalid lines with line and byte offset, and reconciles", async () => {
    const path = join(dir, "in.ndjson");
    writeFileSync(path, '{"a":1}\r\n\n{"a":2,"s":"zoë"}\n{bad json\n[1,2]\n{"a":3}');
    const out = collect();
    const s = await runPipeline(pipeline("nd").from(ndjson(path)).to(out), { home: dir });
    expect(out.records).toEqual([{ a: 1 }, { a: 2, s: "zoë" }, [1, 2], { a: 3 }]);
    expect(s.deadLettered).toBe(1);
    expect(s.rowsIn).toBe(s.rowsOut + s.deadLettered);
    const dl = JSON.parse(readFileSync(s.deadLetterFile!, "utf8").trim());
    expect(dl.position).toEqual({
      file: path,
      line: 4,
      byteOffset: Buffer.byteLength('{"a":1}\r\n\n{"a":2,"s":"zoë"}\n'),
      lines: 1,
    });
    expect(dl.raw).toBe("{bad json");
    expect(dl.stage).toBe("source");
  });

  it("validates with a zod schema", async () => {
    const path = join(dir, "typed.ndjson");
    writeFileSync(path, '{"n":"1"}\n{"n":"x"}\n{"n":"3"}\n');
    const bus = new EventBus();
    const dead: EventOf<"dead.letter">[] = [];
    bus.subscribe((e) => e.kind === "dead.letter" && dead.push(e));
    const recs = await runCollect(
      pipeline("typed").from(ndjson(path, { schema: z.object({ n: z.coerce.number() }) })),
      {
        home: dir,
        bus,
      },
    );
    expect(recs).toEqual([{ n: 1 }, { n: 3 }]);
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/^schema: n:/);
    expect(dead[0].position.line).toBe(2);
  });

  it("resumes at a byte offset", async () => {
    const path = join(dir, "resume.ndjson");
    writeFileSync(path, Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })).join("\n"));
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    await runCollect(pipeline("res", { checkpoint: { rows: 1 } }).from(ndjson(path, { bufferSize: 128 })), {
      home: dir,
      bus,
    });
    const mid = cps[Math.floor(cps.length / 2)];
    const rest = await runCollect(
      pipeline("res", { checkpoint: { rows: 1 } }).from(ndjson(path, { bufferSize: 128 })),
      {
        home: dir,
        resume: { runId: "res-2", checkpoint: mid },
      },
    );
    const offset = mid.sourceOffset as { byte: number };
    const expected = readFileSync(path, "utf8")
      .slice(offset.byte)
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(rest).toEqual(expected);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.length).toBeLessThan(100);
  });

  it("a missing file is a clear SourceError", async () => {
    const s = await runPipeline(
      pipeline("nofile")
        .from(ndjson(join(dir, "nope.ndjson")))
        .to(collect()),
      { home: dir },
    );
    expect(s.status).toBe("failed");
    expect(s.error?.message).toMatch(/input file not found: .*nope\.ndjson/);
  });
});
