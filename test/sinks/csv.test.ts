import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, runPipeline } from "../../src/index.ts";
import { csv } from "../../src/sinks/index.ts";
import { csv as csvSource, iterable } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-csvsink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("csv sink", () => {
  it("quotes fields with delimiters, quotes and newlines, and reads back identically", async () => {
    const rows = [
      { a: "plain", b: "with,comma", c: 'say "hi"' },
      { a: "two\nlines", b: "", c: "crlf\r\nend" },
      { a: "zoë ☃", b: " spaced ", c: "x" },
    ];
    const path = join(dir, "out.csv");
    const s = await runPipeline(pipeline("csvsink").from(iterable(rows)).to(csv(path)), { home: dir });
    expect(s.status).toBe("completed");
    expect(readFileSync(path, "utf8")).toBe(
      'a,b,c\nplain,"with,comma","say ""hi"""\n"two\nlines",,"crlf\r\nend"\nzoë ☃, spaced ,x\n',
    );
    const back = await import("../../src/index.ts").then((m) =>
      m.runCollect(pipeline("back").from(csvSource(path)), { home: dir }),
    );
    expect(back).toEqual(rows);
  });

  it("writes given columns in order; null/undefined empty, objects as JSON, dates as ISO", async () => {
    const path = join(dir, "cols.csv");
    await runPipeline(
      pipeline("cols")
        .from(iterable([{ x: 1, y: null, z: { k: 1 }, d: new Date(0) }]))
        .to(csv(path, { columns: ["d", "z", "y", "x"], delimiter: ";" })),
      { home: dir },
    );
    expect(readFileSync(path, "utf8")).toBe('d;z;y;x\n1970-01-01T00:00:00.000Z;"{""k"":1}";;1\n');
  });

  it("rejects unknown options", () => {
    expect(() => csv("x.csv", { colums: ["a"] } as never)).toThrow(/colums|Unrecognized/);
  });
});
