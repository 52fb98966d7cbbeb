/**
 * The file sources' correctness fixes (issue 15 items 1-3) through the CLI on node, bun and deno:
 * one CSV with a duplicated header name, invalid UTF-8 rows and an unclosed quote that swallows
 * thousands of lines; and an NDJSON file with an invalid UTF-8 line.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-src-runtimes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = join(repo, "test/fixtures/pipelines/csv-correctness.ts");
const runtimes: RuntimeName[] = ["node", "bun", "deno"];

function run(rt: RuntimeName, name: string, content: Uint8Array, options: object = {}) {
  const cwd = join(root, `${rt}-${name}`);
  mkdirSync(join(cwd, "data"), { recursive: true });
  writeFileSync(join(cwd, "data", name), content);
  const r = runCli(rt, ["run", fixture, "--home", join(cwd, ".sluice")], {
    cwd,
    env: { SLUICE_TEST_INPUT: `data/${name}`, SLUICE_TEST_OPTIONS: JSON.stringify(options) },
  });
  const lines = (f: string) =>
    readFileSync(f, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const dlPath = /dead letters: (.+)$/m.exec(r.stdout)?.[1];
  return {
    ...r,
    rows: lines(join(cwd, "out/rows.ndjson")),
    dead: dlPath ? lines(dlPath) : [],
  };
}

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p)] : p)));

describe.each(runtimes)("file sources on %s", (rt) => {
  const missing = !available(rt);
  if (missing && process.env.CI === "true") {
    it("is available", () => expect(available(rt), `${rt} is missing under CI`).toBe(true));
    return;
  }
  it.skipIf(missing)(
    "CSV: renames duplicates safely, dead-letters invalid UTF-8, warns about a swallowed file",
    () => {
      const tail: string[] = [];
      for (let i = 4; i < 3000; i++) tail.push(`${i},x${i},y${i},z${i}`);
      const csv = bytes(
        "c,c,c,c_1\n1,2,3,4\n2,",
        [0xff, 0xfe],
        ",3,4\n3,",
        [0xc3, 0x28],
        ',3,4\n4,"unterminated,3,4\n',
        tail.join("\n"),
        "\n",
      );
      const r = run(rt, "in.csv", csv);
      expect(r.code, r.stderr).toBe(0);
      expect(r.rows).toEqual([{ c: "1", c_2: "2", c_3: "3", c_1: "4" }]);
      expect(r.dead.map((d) => d.position.line)).toEqual([3, 4, 5]);
      expect(r.dead[0].reason).toMatch(/^not valid UTF-8: byte offset 20 \(line 3\) holds FF FE/);
      expect(r.dead[1].reason).toMatch(/^not valid UTF-8: byte offset 29 \(line 4\) holds C3 28/);
      expect(r.dead[2].position.lines).toBe(2997);
      expect(r.dead[2].raw).toMatch(/…\[\d+ bytes cut\]$/);
      expect(r.stdout).toMatch(/dead-lettered 3 \(covering 2,999 input lines\)/);
      expect(r.stdout).toMatch(
        /⚠ 1 warning:\n\s+data\/in\.csv: the record starting at line 5 covers 2,?997 lines/,
      );
      expect(r.stderr).toMatch(/sluice: warning: data\/in\.csv: the record starting at line 5/);
    },
  );

  it.skipIf(missing)(
    "NDJSON: dead-letters a line that is not UTF-8, or reads it as latin1 when asked",
    () => {
      const nd = bytes('{"a":1}\n{"b":"', [0xe9], '"}\n{"c":3}\n');
      const strict = run(rt, "in.ndjson", nd);
      expect(strict.code, strict.stderr).toBe(0);
      expect(strict.rows).toEqual([{ a: 1 }, { c: 3 }]);
      expect(strict.dead).toHaveLength(1);
      expect(strict.dead[0].reason).toMatch(/^not valid UTF-8: byte offset 14 \(line 2\) holds E9 22 7D/);
      const latin = run(rt, "latin.ndjson", nd, { encoding: "latin1" });
      expect(latin.rows).toEqual([{ a: 1 }, { b: "é" }, { c: 3 }]);
    },
  );
});
