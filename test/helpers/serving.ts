/**
 * Waits for a spawned `sluice run --serve` or `sluice serve` to print the
 * address it listens on (port 0 lets the OS pick it); rejects when the
 * process exits first or after `timeoutMs`, with what it printed.
 */
import type { ChildProcess } from "node:child_process";

export function whenServing(
  child: ChildProcess,
  label: string,
  timeoutMs = 90_000,
): Promise<{ port: number; stderr: () => string }> {
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: not serving after ${timeoutMs / 1000} s: ${err}`)),
      timeoutMs,
    );
    child.stderr?.on("data", (d) => {
      err += d;
      const m = /serving the API and dashboard at http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stderr: () => err });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: sluice exited ${code}: ${err}`));
    });
  });
}
