/**
 * The NATS client is loaded only by a run that uses a broker: `sluice run`
 * of the CSV example (which imports sluice/sources and sluice/sinks, where
 * the JetStream source and sink live) resolves no `@nats-io` module. A
 * module hook logs every module Node resolves; the broker fixture is the
 * positive control (it fails at open, after loading the client, as no server
 * is asked for here).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  if (r.url.includes("@nats-io")) appendFileSync(process.env.SLUICE_TEST_LOADED, r.url + "\\n");
  return r;
}`;
const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

/** The @nats-io modules `sluice run FILE` resolves. */
function natsModulesLoaded(file: string, name: string, env: Record<string, string> = {}): string[] {
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

describe("the NATS client is loaded lazily", () => {
  it("a CSV pipeline run loads no @nats-io module; a broker pipeline does", async () => {
    expect(natsModulesLoaded(join(repo, "examples/orders.ts"), "csv")).toEqual([]);
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    const broker = natsModulesLoaded(join(repo, "test/fixtures/pipelines/broker.ts"), "broker", {
      SLUICE_NATS: nowhere,
    });
    expect(broker.length).toBeGreaterThan(0);
  });
});
