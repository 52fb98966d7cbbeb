/** package.json `exports` and deno.json `exports` must name the same entry points, and each must load. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { repo } from "./helpers/runtimes.ts";

const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
const deno = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8"));

describe("entry points", () => {
  it("package.json and deno.json export the same keys", () => {
    expect(Object.keys(deno.exports).sort()).toEqual(Object.keys(pkg.exports).sort());
  });

  it("each deno.json export is the TypeScript source of the package.json export", () => {
    for (const [key, target] of Object.entries(pkg.exports as Record<string, string | { types: string }>)) {
      // The bundle (`default`) is built from tsc's files, whose declarations (`types`) name the source.
      const built = typeof target === "string" ? target : target.types;
      const expected = built.replace("./dist/", "./src/").replace(/\.d\.ts$|\.js$/, ".ts");
      expect(deno.exports[key], key).toBe(expected);
    }
  });

  it("deno.json imports map the package name onto the built entry points", () => {
    for (const [key, target] of Object.entries(pkg.exports as Record<string, string | { default: string }>)) {
      if (key === "./package.json") continue;
      const name = key === "." ? "sluice" : `sluice/${key.slice(2)}`;
      expect(deno.imports[name], name).toBe(typeof target === "string" ? target : target.default);
    }
  });

  it("sluice, sluice/sources, sluice/operators, sluice/sinks and sluice/testing resolve", async () => {
    const main = await import("sluice");
    expect(typeof main.pipeline).toBe("function");
    expect(typeof (await import("sluice/sources")).csv).toBe("function");
    expect(typeof (await import("sluice/sources")).json).toBe("function");
    expect(typeof (await import("sluice/sources")).excel).toBe("function");
    const ops = await import("sluice/operators");
    expect(typeof ops.map).toBe("function");
    expect(Object.keys(ops.window).sort()).toEqual(["session", "sliding", "tumbling"]);
    expect(typeof (await import("sluice/sinks")).ndjson).toBe("function");
    expect(typeof (await import("sluice/sources")).parquet).toBe("function");
    expect(typeof (await import("sluice/sinks")).parquet).toBe("function");
    expect(typeof (await import("sluice/testing")).VirtualClock).toBe("function");
  });

  it("sluice bench measures in the bundled child: the copy of sluice a user's scenario imports", async () => {
    const measure = pathToFileURL(join(repo, "dist/bench/internal/measure.js")).href;
    const { childScript } = (await import(measure)) as { childScript: () => string };
    expect(childScript()).toBe(join(repo, "dist/bundle/bench-child.js"));
    expect(existsSync(childScript())).toBe(true);
  });

  it("internals cannot be deep-imported", () => {
    const r = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", 'await import("sluice/dist/pipeline/run.js")'],
      {
        cwd: repo,
        encoding: "utf8",
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });
});
