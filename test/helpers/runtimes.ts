/**
 * Test helper: how to launch the CLI on each runtime, and whether the suite
 * must insist on all of them (under CI=true a missing runtime is a failure).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const repo = resolve(import.meta.dirname, "../..");
export const cli = join(repo, "bin", "sluice.js");

export type RuntimeName = "node" | "bun" | "deno";

export function command(runtime: RuntimeName): string[] {
  switch (runtime) {
    case "node":
      return [process.execPath];
    case "bun":
      return [join(repo, "node_modules", ".bin", "bun")];
    case "deno":
      return [join(repo, "node_modules", ".bin", "deno"), "run", "-A", `--config=${join(repo, "deno.json")}`];
  }
}

export function available(runtime: RuntimeName): boolean {
  const [bin] = command(runtime);
  if (!existsSync(bin)) return false;
  return spawnSync(bin, ["--version"], { encoding: "utf8" }).status === 0;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  runtime: RuntimeName,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Result {
  const [bin, ...pre] = command(runtime);
  const r = spawnSync(bin, [...pre, cli, ...args], {
    cwd: opts.cwd ?? repo,
    env: { ...process.env, ...opts.env, NO_COLOR: "1" },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** The command running a TypeScript `script` from src/ on `runtime` (tsx on node). */
export function scriptCommand(runtime: RuntimeName, script: string): [string, ...string[]] {
  const [bin, ...pre] = command(runtime);
  return runtime === "node" ? [bin, "--import", "tsx", script] : [bin, ...pre, script];
}

/**
 * Runs a check script on `runtime` (from the repository's root) and returns
 * its exit status, stderr and the JSON it prints on its last line.
 */
export function runScript(
  runtime: RuntimeName,
  script: string,
  args: string[],
): { status: number | null; stderr: string; output: ReturnType<typeof JSON.parse> } {
  const [bin, ...pre] = scriptCommand(runtime, script);
  const r = spawnSync(bin, [...pre, ...args], { cwd: repo, encoding: "utf8", timeout: 240_000 });
  let output: ReturnType<typeof JSON.parse> = null;
  try {
    output = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "null");
  } catch {
    // no JSON: the status and stderr say why
  }
  return { status: r.status, stderr: r.stderr ?? "", output };
}
