/**
 * The README's "run it on any of the three runtimes" table, as a new user
 * meets it (issue 15 item 5): a fresh project installs sluice from `npm pack`
 * of this repository, gets the README's example pipeline and data, and runs
 * each command of the table exactly as written; the run's journal must say it
 * ran on that runtime (`run.started.runtime`). `bunx sluice …` without
 * `--bun` obeys the bin's `#!/usr/bin/env node` line and runs on Node, which
 * is what this test caught. The "in this repo" commands run the same way from
 * the repository root. Bun and Deno come from this repo's node_modules/.bin
 * (a user installs them; the README says so).
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-readme-"));
const project = join(root, "project");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readme = readFileSync(join(repo, "README.md"), "utf8");
const RUNTIMES: Record<string, RuntimeName> = { Node: "node", Bun: "bun", Deno: "deno" };

/** The rows of the README's runtime table: the user's command and, if given, the in-repo one. */
function table(): Array<{ runtime: RuntimeName; user: string; inRepo?: string }> {
  const start = readme.indexOf("| runtime | command |");
  expect(start, "the README's runtime table").toBeGreaterThan(0);
  const rows = readme.slice(start).split("\n").slice(2);
  const out: Array<{ runtime: RuntimeName; user: string; inRepo?: string }> = [];
  for (const row of rows) {
    if (!row.startsWith("|")) break;
    const [, label, cell] = row.split("|").map((c) => c.trim());
    const runtime = RUNTIMES[label.split(" ")[0]];
    const spans = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    out.push({ runtime, user: spans[0], inRepo: /in this repo:/.test(cell) ? spans[1] : undefined });
  }
  return out;
}

/** The README's example pipeline (the code block headed `// pipelines/orders.ts`). */
function examplePipeline(): string {
  const m = /```ts\n(\/\/ pipelines\/orders\.ts\n[\s\S]*?)```/.exec(readme);
  expect(m, "the README's example pipeline").not.toBeNull();
  return m![1];
}

/** PATH with bun, bunx and deno on it, as a user who installed them has. */
const PATH = [join(repo, "node_modules", ".bin"), process.env.PATH].join(delimiter);

function sh(cmd: string, cwd: string, env: Record<string, string> = {}, timeout = 120_000) {
  const r = spawnSync("sh", ["-c", cmd], {
    cwd,
    env: { ...process.env, PATH, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout,
  });
  return {
    code: r.status,
    stdout: r.stdout ?? "",
    stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`,
  };
}

/** The runtime the run's journal recorded in its `run.started`. */
function journaledRuntime(stdout: string, home: string): string {
  const runId = /\(run (\S+)\)/.exec(stdout)?.[1];
  expect(runId, stdout).toBeDefined();
  const r = runCli("node", ["events", runId!, "--kind", "run.started", "--json", "--home", home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()).runtime;
}

beforeAll(async () => {
  expect(existsSync(join(repo, "dist/bundle/cli.js")), "run `npm run build` first").toBe(true);
  mkdirSync(join(project, "pipelines"), { recursive: true });
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "sluice-readme-user", private: true, type: "module" }),
  );
  // dist/ is built already: pack without running `prepare` again.
  const pack = sh(`npm pack --ignore-scripts --pack-destination "${root}"`, repo);
  expect(pack.code, pack.stderr).toBe(0);
  const tarball = readdirSync(root).find((f) => f.endsWith(".tgz"));
  expect(tarball).toBeDefined();
  const install = sh(
    `npm install --prefer-offline --no-audit --no-fund "${join(root, tarball!)}"`,
    project,
    {},
    240_000,
  );
  expect(install.code, install.stderr).toBe(0);
  writeFileSync(join(project, "pipelines/orders.ts"), examplePipeline());
  await ensureOrdersCsv(join(project, "data/orders.csv"), { rows: 2000, seed: 5, badEvery: 0 });
}, 300_000);

describe("the README's runtime commands, exactly as written", () => {
  it("bun and deno are installed (under CI a missing runtime fails)", () => {
    for (const rt of ["bun", "deno"] as const)
      expect(available(rt), `${rt} is missing — npm install`).toBe(true);
  });

  it("list node, bun and deno", () => {
    expect(table().map((r) => r.runtime)).toEqual(["node", "bun", "deno"]);
  });

  it.each(table())(
    "in a user's project: $user runs on $runtime",
    ({ runtime, user }) => {
      const r = sh(user, project);
      expect(r.code, `${user}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/✔ orders completed/);
      expect(journaledRuntime(r.stdout, join(project, ".sluice"))).toBe(runtime);
    },
    150_000,
  );

  it.each(table().filter((r) => r.inRepo))(
    "in this repository: $inRepo runs on $runtime",
    ({ runtime, inRepo }) => {
      const home = join(root, `repo-${runtime}`);
      const cmd = inRepo!.replace(/\bFILE\b/, "test/fixtures/pipelines/tiny.ts");
      const r = sh(cmd, repo, { SLUICE_HOME: home, SLUICE_TINY_OUT: join(home, "tiny.ndjson") });
      expect(r.code, `${cmd}\n${r.stderr}`).toBe(0);
      expect(journaledRuntime(r.stdout, home)).toBe(runtime);
    },
    150_000,
  );
});
