/**
 * @module A checkout of sluice at another revision, built, for whole-process benchmarks that
 * put "today's main" beside the current tree: a detached git worktree under `data`
 * (gitignored) with this repository's node_modules, and the benchmark's peer pipelines copied
 * into it (they import "sluice", which inside the checkout resolves to its own build).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** The checkout of `rev` (built once), with `peers` copied to `benchmarks/peers/<name>`. */
export function baselineCheckout(
  repo: string,
  data: string,
  rev: string,
  peers: string,
  name: string,
): string {
  const dir = join(data, `baseline-${rev}`);
  const built = existsSync(join(dir, "scripts", "bundle.mjs"))
    ? join(dir, "dist", "bundle", "cli.js")
    : join(dir, "dist", "cli", "main.js");
  if (!existsSync(built)) {
    rmSync(dir, { recursive: true, force: true });
    spawnSync("git", ["worktree", "prune"], { cwd: repo });
    const add = spawnSync("git", ["worktree", "add", "--detach", dir, rev], { cwd: repo, encoding: "utf8" });
    if (add.status !== 0) throw new Error(`git worktree add ${rev}: ${add.stderr}`);
    symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
    const b = spawnSync(
      "node",
      [join(repo, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    if (b.status !== 0) throw new Error(`building ${rev}: ${b.stdout}${b.stderr}`);
    // Since the bundle (scripts/bundle.mjs), `npm run build` is tsc and then the bundle, which
    // bin/sluice.js runs.
    if (existsSync(join(dir, "scripts", "bundle.mjs"))) {
      const u = spawnSync("node", [join(dir, "scripts", "bundle.mjs")], { cwd: dir, encoding: "utf8" });
      if (u.status !== 0) throw new Error(`bundling ${rev}: ${u.stdout}${u.stderr}`);
    }
  }
  cpSync(peers, join(dir, "benchmarks", "peers", name), { recursive: true });
  return dir;
}
