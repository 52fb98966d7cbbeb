/**
 * Test helper for system tools (chromium, promtool, a runtime): present → run;
 * missing under CI=true → the test fails naming the package to install;
 * missing elsewhere → the test is skipped with a plain message saying so.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export function hasTool(path: string, args: string[] = ["--version"]): boolean {
  if (path.includes("/") && !existsSync(path)) return false;
  const r = spawnSync(path, args, { encoding: "utf8", timeout: 30_000 });
  return r.status === 0;
}

/** Call first in a test: returns when the tool is there, else fails (CI) or skips with a message. */
export function requireTool(
  ctx: { skip: (note?: string) => void },
  present: boolean,
  what: string,
  install: string,
): void {
  if (present) return;
  const msg = `${what} is not installed (${install})`;
  if (process.env.CI === "true") throw new Error(`${msg}; CI must have it`);
  console.warn(`SKIPPED: ${msg}`);
  ctx.skip(msg);
}
