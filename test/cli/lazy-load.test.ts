/**
 * The libraries of one source or sink load only in a run that uses it: `sluice run` of the CSV
 * example (which imports sluice/sources and sluice/sinks, where every source and sink lives)
 * resolves no module of the NATS client, the Parquet reader and writer, exceljs or the JSON
 * tokenizer; each costs start-up time (together ~0.1 s of CPU on Node). A module hook logs the
 * modules Node resolves from those packages. Positive controls: the broker fixture (it fails
 * at open, after loading the client, as no server is asked for here) and a JSON source.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/nats.ts";
import { cli, repo } from "../helpers/runtimes.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-lazy-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hooks = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (["@nats-io", "hyparquet", "hyparquet-writer", "exceljs", "@streamparser"].some((p) => r.url.includes(\`/node_modules/\${p}/\`))) appendFileSync(process.env.SLUICE_TEST_LOADED, r.url + "\\n");
  return r;
}`;
const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

/** The modules of those packages that `sluice run FILE` resolves. */
function lazyModulesLoaded(file: string, name: string, env: Record<string, string> = {}): string[] {
  const log = join(root, `${name}.log`);
  spawnSync(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(register)}`,
      cli,
      "run",
      file,
      "--quiet",
      "--home",
      join(root, name),
    ],
    {
      cwd: root,
      env: { ...process.env, ...env, SLUICE_TEST_LOADED: log },
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
}

describe("format and broker libraries load lazily", () => {
  it("a CSV pipeline run loads none of them; a broker or a JSON pipeline loads its own", async () => {
    expect(lazyModulesLoaded(join(repo, "examples/orders.ts"), "csv")).toEqual([]);
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    const broker = lazyModulesLoaded(join(repo, "test/fixtures/pipelines/broker.ts"), "broker", {
      SLUICE_NATS: nowhere,
    });
    expect(broker.length).toBeGreaterThan(0);
    expect(broker.every((url) => url.includes("@nats-io"))).toBe(true);
    mkdirSync(join(root, "data"), { recursive: true });
    writeFileSync(join(root, "data", "in.json"), '[{"a":1},{"a":2}]');
    const json = lazyModulesLoaded(join(repo, "test/fixtures/pipelines/formats.ts"), "json");
    expect(json.length).toBeGreaterThan(0);
    expect(json.every((url) => url.includes("@streamparser/json"))).toBe(true);
  });
});
