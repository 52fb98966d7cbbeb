/**
 * The JSON source against an independent reader (Python's `json` module) of the same files:
 * the root array and an array at a path; positions (index, byte offset) of schema failures;
 * a truncated file and a stray byte (the elements before go on, the rest is one dead letter
 * with its byte offset); a path that holds no array (a clear error naming file and path);
 * resume from a checkpoint in the middle; inference at open.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EventBus, type EventOf, pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { json } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The array at `keys` in `file`, as Python's json module reads it (re-serialised). */
function python(file: string, keys: string[] = []): unknown[] {
  const script = `import json,sys\nd=json.load(open(sys.argv[1],encoding="utf-8"))\nfor k in sys.argv[2:]: d=d[k]\nprint(json.dumps(d))`;
  const r = spawnSync("python3", ["-c", script, file, ...keys], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function sample(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: i,
      name: `n${i} "quoted" \\ zoë ✓ 😀\n\t`,
      amount: i % 7 === 0 ? null : (i * 1.37) / 3,
      big: i * 1e15,
      tags: i % 3 === 0 ? [] : ["a", { deep: [i, null, true] }],
      ok: i % 2 === 0,
      ts: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    });
  }
  return out;
}

async function read(file: string, options: Parameters<typeof json>[1] = {}) {
  const bus = new EventBus();
  const dead: EventOf<"dead.letter">[] = [];
  bus.subscribe((e) => e.kind === "dead.letter" && dead.push(e));
  const out = collect();
  const s = await runPipeline(pipeline("js").from(json(file, options)).to(out), { home: dir, bus });
  return { records: out.records, dead, summary: s };
}

describe("json source", () => {
  it("reads the root array as Python's json does (unicode, escapes, nesting, numbers)", async () => {
    const file = join(dir, "root.json");
    writeFileSync(file, JSON.stringify(sample(3000), null, 1));
    const { records, summary } = await read(file, { bufferSize: 4096 });
    expect(summary.status).toBe("completed");
    expect(records).toHaveLength(3000);
    expect(records).toEqual(python(file));
  });

  it("reads the array at a path, skipping the rest of the document", async () => {
    const file = join(dir, "nested.json");
    const doc = { meta: { items: "not this", n: [1, 2] }, data: { rows: sample(500) }, after: { x: [1] } };
    writeFileSync(file, JSON.stringify(doc));
    const { records } = await read(file, { path: "$.data.rows" });
    expect(records).toEqual(python(file, ["data", "rows"]));
  });

  it("a schema failure is dead-lettered with the element's index and byte offset", async () => {
    const file = join(dir, "typed.json");
    const text = '[\n  {"n": 1},\n  {"n": "x"},\n  {"n": 3}\n]\n';
    writeFileSync(file, text);
    const { records, dead, summary } = await read(file, { schema: z.object({ n: z.number() }) });
    expect(records).toEqual([{ n: 1 }, { n: 3 }]);
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/^schema: n: /);
    expect(dead[0].position).toEqual({ file, index: 1, byteOffset: Buffer.byteLength('[\n  {"n": 1},\n  ') });
    expect(summary.rowsIn).toBe(summary.rowsOut + summary.deadLettered);
  });

  it("a truncated file: the elements before go on; the rest is one dead letter with its position", async () => {
    const file = join(dir, "truncated.json");
    const full = JSON.stringify(sample(200));
    const cut = full.slice(0, Math.floor(full.length * 0.6));
    writeFileSync(file, cut);
    const { records, dead, summary } = await read(file);
    expect(summary.status).toBe("completed");
    // Python cannot read the file at all; it reads the complete elements of the same prefix closed by "]".
    const lastComplete = cut.lastIndexOf("},{") + 1;
    writeFileSync(join(dir, "prefix.json"), `${cut.slice(0, lastComplete)}]`);
    expect(records).toEqual(python(join(dir, "prefix.json")));
    expect(dead).toHaveLength(1);
    expect(dead[0].position.index).toBe(records.length);
    expect(dead[0].position.byteOffset).toBe(Buffer.byteLength(cut.slice(0, lastComplete + 1)));
    expect(dead[0].reason).toMatch(
      /^invalid JSON in element \d+ \(which starts at byte \d+\): .*the rest of the file was not/,
    );
    expect(summary.rowsIn).toBe(summary.rowsOut + summary.deadLettered);
  });

  it("a stray byte after an element names its byte offset", async () => {
    const file = join(dir, "stray.json");
    writeFileSync(file, '[{"a":1},{"a":2} x {"a":3}]');
    const { records, dead } = await read(file);
    expect(records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(dead[0].reason).toMatch(/^invalid JSON at byte 17: Unexpected "x"/);
    expect(dead[0].position).toEqual({ file, byteOffset: 17 });
  });

  it("a path that holds no array, or no value, fails the run with file and path", async () => {
    const file = join(dir, "shape.json");
    writeFileSync(file, '{"count": 2, "items": {"a": 1}}');
    const notArray = await read(file, { path: "$.items" });
    expect(notArray.summary.status).toBe("failed");
    expect(notArray.summary.error?.message).toBe(
      `json source: ${file}: $.items holds an object (at byte 22), not an array`,
    );
    const missing = await read(file, { path: "$.rows" });
    expect(missing.summary.error?.message).toMatch(
      /no array at \$\.rows \(the top-level object's keys: count, items\)/,
    );
    const root = await read(file);
    expect(root.summary.error?.message).toMatch(/\$ holds an object \(at byte 0\), not an array/);
    expect(() => json(file, { path: "items" })).toThrow(/path: "items" is not a supported path/);
  });

  it("resumes from a checkpoint in the middle, without reading the file from its start", async () => {
    const file = join(dir, "resume.json");
    writeFileSync(file, JSON.stringify({ items: sample(400), tail: { x: 1 } }));
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const p = () =>
      pipeline("jres", { checkpoint: { rows: 1 } }).from(json(file, { path: "$.items", bufferSize: 4096 }));
    await runCollect(p(), { home: dir, bus });
    const mid = cps[Math.floor(cps.length / 2)];
    const offset = mid.sourceOffset as { byte: number; index: number };
    expect(offset.index).toBeGreaterThan(0);
    const rest = await runCollect(p(), { home: dir, resume: { runId: "jres-2", checkpoint: mid } });
    expect(rest).toEqual(python(file, ["items"]).slice(offset.index));
    expect(rest.length).toBeLessThan(400);
  });

  it("infer: true validates every element with the schema of the first ones", async () => {
    const file = join(dir, "infer.json");
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, price: i + 0.5, ok: true }));
    rows.push({ id: 50.5, price: 1, ok: true }, { id: 51, price: 2, ok: "yes" as never });
    writeFileSync(file, JSON.stringify(rows));
    const { records, dead } = await read(file, { infer: { sample: 50 } });
    expect(records).toHaveLength(50);
    expect(dead.map((d) => d.position.index)).toEqual([50, 51]);
    expect(dead[0].reason).toMatch(/^schema: id: /);
    expect(dead[1].reason).toMatch(/^schema: ok: /);
    expect(() => json(file, { infer: true, schema: z.object({}) })).toThrow(/either schema or infer/);
  });
});

it("the JSON file written is what the test reads (sanity)", () => {
  const file = join(dir, "root.json");
  expect(readFileSync(file, "utf8").startsWith("[")).toBe(true);
});
