/**
 * One error base and one table (issue 14 item 6): every error class exported from src/ extends
 * `TaggedError` with `_tag` equal to its class name and has a row in `ERROR_CODES`, which the CLI
 * (exit codes) and the HTTP layer (statuses) both read. A new error without a row fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT as CLI_EXIT, exitCodeOf, UsageError } from "../src/cli/errors.ts";
import { ERROR_CODES, EXIT, TaggedError } from "../src/errors.ts";
import { BadRequestError, ServeConfigError, statusOf } from "../src/http/errors.ts";
import { JournalClosedError } from "../src/journal/errors.ts";
import { MetricsLockedError, MetricsStateError } from "../src/metrics/errors.ts";
import { TimeoutError } from "../src/operators/errors.ts";
import { ConfigError, isSluiceError, PipelineLoadError, StageError } from "../src/pipeline/errors.ts";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/** Exported `…Error` classes that are not engine errors, each with the reason. */
const NOT_ENGINE_ERRORS: Readonly<Record<string, string>> = {
  ServiceError: "the simulated peer service of a bench scenario fails with it; it stands for a user's error",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

interface Found {
  name: string;
  file: string;
  tag: string | undefined;
}

/** Every concrete `export class XxxError …` in src (not the abstract base), with the `_tag` its body declares. */
function exportedErrorClasses(): Found[] {
  const out: Found[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^export class (\w+Error)\b[^{]*\{/gm)) {
      const body = text.slice(m.index + m[0].length, text.indexOf("\n}", m.index));
      const tag = /readonly _tag = "(\w+)"/.exec(body)?.[1];
      out.push({ name: m[1], file, tag });
    }
  }
  return out;
}

describe("error classes and the error table", () => {
  const found = exportedErrorClasses().filter((c) => !(c.name in NOT_ENGINE_ERRORS));

  it("finds the errors of every layer", () => {
    const files = new Set(found.map((c) => relative(src, c.file)));
    for (const f of ["pipeline/errors.ts", "operators/errors.ts", "journal/errors.ts", "metrics/errors.ts"])
      expect(files).toContain(f);
    for (const f of ["http/errors.ts", "cli/errors.ts"]) expect(files).toContain(f);
  });

  it("every exported error class has a row in ERROR_CODES, and every row a class", () => {
    const names = found.map((c) => c.name);
    const missing = names.filter((n) => !Object.hasOwn(ERROR_CODES, n));
    expect(missing, "add these to ERROR_CODES in src/errors.ts").toEqual([]);
    const stale = Object.keys(ERROR_CODES).filter((t) => !names.includes(t));
    expect(stale, "rows without an exported error class").toEqual([]);
  });

  it("every exported error class extends TaggedError, with _tag equal to its name", async () => {
    for (const c of found) {
      expect(c.tag, `${relative(src, c.file)}: ${c.name}._tag`).toBe(c.name);
      const mod = (await import(pathToFileURL(c.file).href)) as Record<string, unknown>;
      const cls = mod[c.name] as { prototype: unknown };
      expect(cls.prototype instanceof TaggedError, `${c.name} extends TaggedError`).toBe(true);
    }
  });

  it("the CLI's exit codes come from the table", () => {
    expect(CLI_EXIT).toBe(EXIT);
    expect(exitCodeOf(new UsageError("bad flag"))).toBe(2);
    expect(exitCodeOf(new ConfigError("bad option"))).toBe(2);
    expect(exitCodeOf(new PipelineLoadError("no pipeline"))).toBe(2);
    expect(exitCodeOf(new StageError("stage failed"))).toBe(1);
    expect(exitCodeOf(new JournalClosedError("/tmp/j"))).toBe(1);
    expect(exitCodeOf(new Error("plain"))).toBe(1);
  });

  it("the HTTP statuses come from the table", () => {
    expect(statusOf(new BadRequestError("query.limit", "not a number"))).toBe(400);
    expect(statusOf(new MetricsLockedError("/tmp/m.duckdb", 1))).toBe(503);
    expect(statusOf(new MetricsStateError("closed"))).toBe(409);
    expect(statusOf(new ConfigError("bad option"))).toBe(500);
    expect(statusOf(Object.assign(new Error("relayed"), { _tag: "UnavailableError" }))).toBe(503);
    expect(statusOf(new Error("plain"))).toBe(500);
  });

  it("errors carry message, hint, cause, and name = _tag", () => {
    const cause = new Error("disk full");
    const e = new StageError("stage x failed", { cause, hint: "free some space" });
    expect([e.name, e.message, e.hint, e.cause]).toEqual([
      "StageError",
      "stage x failed",
      "free some space",
      cause,
    ]);
    expect(new ServeConfigError("bad port", "pick another").hint).toBe("pick another");
    expect(new UsageError("bad flag").hint).toBe("Run `sluice --help` for usage.");
    expect(new TimeoutError("map", 5).name).toBe("TimeoutError");
    expect(isSluiceError(new StageError("x"))).toBe(true);
    expect(isSluiceError(new TimeoutError("map", 5))).toBe(false);
    expect(isSluiceError(new JournalClosedError("/tmp/j"))).toBe(false);
  });
});
