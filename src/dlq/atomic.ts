/**
 * @module Writing a small state file atomically: the text goes to a temporary
 * file beside it, is fsynced, then renamed over it, so a reader (or a process
 * restarted after kill -9) sees the old file or the new one, never a torn one.
 */
import { fs } from "../runtime/fs.ts";

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const w = await fs.openWriter(tmp, { mode: 0o600 });
  try {
    await w.write(text);
    await w.sync();
  } finally {
    await w.close();
  }
  await fs.rename(tmp, path);
}

/** The JSON in `path`, or undefined when there is no such file. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  if (!(await fs.stat(path))) return undefined;
  return JSON.parse(await fs.readText(path)) as T;
}
