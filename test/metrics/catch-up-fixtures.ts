/**
 * Test helpers for the catch-up: small pipelines to journal, one that is
 * interrupted part-way (to resume), and another process holding a store.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { map } from "../../src/operators/index.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { repo } from "../helpers/runtimes.ts";

/** `n` records `{ x }` (with `pad` characters more each). */
export const numbers = (name: string, n: number, pad = 0) =>
  pipeline(name)
    .from(iterable(Array.from({ length: n }, (_, i) => i)))
    .via(map((x: number) => (pad > 0 ? { x, pad: "x".repeat(pad) } : { x })))
    .to(collect());

/**
 * 1000 records, a checkpoint every 100; the first run of it is aborted
 * (status "interrupted") at the 450th record, so the next run resumes it.
 */
export function interruptedOnce(name: string) {
  const controller = new AbortController();
  let seen = 0;
  const p = pipeline(name, { checkpoint: { rows: 100 } })
    .from(
      iterable(
        Array.from({ length: 1000 }, (_, i) => i),
        { chunkSize: 100 },
      ),
    )
    .via(
      map((x: number) => {
        if (++seen === 450) controller.abort();
        return { x };
      }),
    )
    .to(collect());
  return { p, signal: controller.signal };
}

/** Another process (node) holding `home`'s metrics store open for writing until `release`. */
export async function holdStore(home: string): Promise<{ readonly pid: number; release(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", join(repo, "test/metrics/hold-writer.ts"), home],
    { cwd: repo, stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise((r) => child.on("exit", r));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("open") && resolve());
    child.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return {
    pid: child.pid as number,
    release: async () => {
      child.stdin?.end();
      await exited;
    },
  };
}
