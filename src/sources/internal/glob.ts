/**
 * @module File globs for the file sources: `data/*.parquet`,
 * `data/**\/part-?.parquet`, `logs/{a,b}/*.parquet`, `[0-9]` classes. Hand-written (about 60
 * lines) because Node 20 has no `fs.glob` and the matcher libraries are not dependencies;
 * only the segments after the first wildcard are walked, so a glob costs one `readdir` per
 * directory it can match. Results are sorted so a resumed run sees the same file order.
 */
import { fs, paths } from "../../runtime/fs.ts";

const MAGIC = /[*?[{]/;

/** True when `pattern` has a wildcard (`*`, `?`, `[…]`, `{a,b}`). */
export function isGlob(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** The files matching `pattern` (absolute paths, sorted); a plain path is returned as is. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = paths.resolve(pattern);
  if (!isGlob(pattern)) return [abs];
  const parts = abs.split("/");
  const first = parts.findIndex((p) => MAGIC.test(p));
  const base = parts.slice(0, first).join("/") || "/";
  const out: string[] = [];
  await walk(base, parts.slice(first), out);
  return [...new Set(out)].sort();
}

async function walk(dir: string, rest: string[], out: string[]): Promise<void> {
  const [seg, ...tail] = rest;
  if (seg === undefined) return;
  if (seg === "**") {
    await walk(dir, tail, out); // zero directories
    for (const name of await fs.readdir(dir)) {
      const p = paths.join(dir, name);
      if (!name.startsWith(".") && (await fs.stat(p))?.isDirectory) await walk(p, rest, out);
    }
    return;
  }
  const re = segmentRegExp(seg);
  const names = MAGIC.test(seg) ? await fs.readdir(dir) : [seg];
  for (const name of names) {
    if (!re.test(name) || (name.startsWith(".") && !seg.startsWith("."))) continue;
    const p = paths.join(dir, name);
    const info = await fs.stat(p);
    if (!info) continue;
    if (tail.length === 0) {
      if (info.isFile) out.push(p);
    } else if (info.isDirectory) await walk(p, tail, out);
  }
}

/** One path segment's pattern as an anchored regular expression. */
export function segmentRegExp(seg: string): RegExp {
  let re = "";
  let braces = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 1);
      if (end === -1) re += "\\[";
      else {
        const body = seg.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) re += "|";
    else re += c.replace(/[.+^$()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
