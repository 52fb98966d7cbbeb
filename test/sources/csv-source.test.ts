/**
 * The CSV source as a user meets it (issue 15): invalid UTF-8 goes to the dead letter naming the
 * byte, duplicate header names never take a name the header has, a record swallowing thousands of
 * lines raises a warning and the summary says how many lines the dead letters cover, and a dead
 * letter's raw text is bounded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline } from "../../src/index.ts";
import { RAW_MAX_BYTES } from "../../src/pipeline/internal/raw.ts";
import { collect } from "../../src/sinks/index.ts";
import { csv } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-csv-source-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const deadLetters = (path: string | undefined): EventOf<"dead.letter">[] =>
  path
    ? readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
    : [];

describe("csv source", () => {
  it("dead-letters records that are not valid UTF-8, naming the byte offset, and goes on", async () => {
    const path = file(
      "latin.csv",
      new Uint8Array([
        ...Buffer.from("a,b\n1,"),
        0xff,
        0xfe,
        ...Buffer.from("\n3,"),
        0xc3,
        0x28,
        ...Buffer.from("\n5,ok\n"),
      ]),
    );
    const out = collect<Record<string, string>>();
    const s = await runPipeline(pipeline("utf8").from(csv(path)).to(out), { home: dir });
    expect(s.status).toBe("completed");
    expect(out.records).toEqual([{ a: "5", b: "ok" }]);
    expect(s.rowsIn).toBe(3);
    expect(s.deadLettered).toBe(2);
    const dl = deadLetters(s.deadLetterFile);
    expect(dl.map((d) => d.position)).toEqual([
      { file: path, line: 2, byteOffset: 4, lines: 1 },
      { file: path, line: 3, byteOffset: 9, lines: 1 },
    ]);
    expect(dl[0].reason).toMatch(/^not valid UTF-8: byte offset 6 \(line 2\) holds FF FE/);
    expect(dl[1].reason).toMatch(/^not valid UTF-8: byte offset 11 \(line 3\) holds C3 28/);

    const replaced = collect<Record<string, string>>();
    const r = await runPipeline(
      pipeline("utf8r")
        .from(csv(path, { encoding: "replace" }))
        .to(replaced),
      {
        home: dir,
      },
    );
    expect(r.deadLettered).toBe(0);
    expect(replaced.records[0]).toEqual({ a: "1", b: "\ufffd\ufffd" });
    const latin = collect<Record<string, string>>();
    await runPipeline(
      pipeline("utf8l")
        .from(csv(path, { encoding: "latin1" }))
        .to(latin),
      { home: dir },
    );
    expect(latin.records[1]).toEqual({ a: "3", b: "Ã(" });
  });

  it("rejects an unknown encoding with a clear ConfigError", () => {
    expect(() => csv("x.csv", { encoding: "utf-16le" as never })).toThrow(
      expect.objectContaining({
        _tag: "ConfigError",
        message: expect.stringMatching(
          /csv\("x\.csv"\): invalid options: encoding: .*"utf-8"\|"replace"\|"latin1"/,
        ),
        hint: expect.stringMatching(/Allowed options: .*encoding/),
      }),
    );
  });

  it("renames duplicate header names without taking a name the header has", async () => {
    const out = collect<Record<string, string>>();
    await runPipeline(
      pipeline("dups")
        .from(csv(file("dups.csv", "c,c,c,c_1\n1,2,3,4\n")))
        .to(out),
      { home: dir },
    );
    expect(out.records).toEqual([{ c: "1", c_2: "2", c_3: "3", c_1: "4" }]);
  });

  it("warns when a stray quote swallows thousands of lines, and says how many lines the dead letters cover", async () => {
    const rows = ["id,name,note"];
    for (let i = 1; i < 5000; i++) rows.push(i === 13 ? `${i},"unterminated,x` : `${i},name ${i},note ${i}`);
    const path = file("stray.csv", `${rows.join("\n")}\n`);
    const bus = new EventBus();
    const warnings: EventOf<"warning">[] = [];
    bus.subscribe((e) => warnings.push(e as EventOf<"warning">), ["warning"]);
    const s = await runPipeline(pipeline("stray").from(csv(path)).to(collect()), { home: dir, bus });
    expect(s.rowsIn).toBe(13);
    expect(s.deadLettered).toBe(1);
    expect(s.deadLetterLines).toBe(4987); // lines 14..5000
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      stage: "source",
      code: "long-record",
      position: { file: path, line: 14, lines: 4987 },
    });
    expect(warnings[0].message).toContain("the record starting at line 14 covers 4987 lines");
    expect(s.warnings).toEqual({ count: 1, first: [warnings[0]] });
    const [dl] = deadLetters(s.deadLetterFile);
    expect(dl.position).toMatchObject({ line: 14, lines: 4987 });
    // The raw text is cut to RAW_MAX_BYTES with a marker saying how much is missing.
    const total = Buffer.byteLength(rows.slice(13).join("\n")) + 1;
    const m = /…\[(\d+) bytes cut\]$/.exec(dl.raw ?? "");
    expect(m).not.toBeNull();
    const kept = Buffer.byteLength((dl.raw ?? "").slice(0, m!.index));
    expect(kept).toBe(RAW_MAX_BYTES);
    expect(kept + Number(m![1])).toBe(total);
  });

  it("keeps stray quotes as data with relaxQuotes", async () => {
    const path = file("relax.csv", 'a,b\n1,5"\n2,"x"y\n');
    const strict = collect<Record<string, string>>();
    const s = await runPipeline(pipeline("strict").from(csv(path)).to(strict), { home: dir });
    expect(s.deadLettered).toBe(2);
    const relaxed = collect<Record<string, string>>();
    await runPipeline(
      pipeline("relaxed")
        .from(csv(path, { relaxQuotes: true }))
        .to(relaxed),
      { home: dir },
    );
    expect(relaxed.records).toEqual([
      { a: "1", b: '5"' },
      { a: "2", b: "xy" },
    ]);
  });
});
