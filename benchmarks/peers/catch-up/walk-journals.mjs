// A lower bound under reading journals in JavaScript, as a whole process: every segment of every
// run under the state directory $1 read whole, each frame's length and payload checked by CRC32C
// (sluice's own `crc32c`), and each MessagePack payload walked to its end without making a single
// value (no object, no string, no number: only lengths and types are read). A reader that builds
// anything a store can take does at least this. With `--none` it loads the same modules, lists
// the segments and reads nothing: the difference is the walk's cost.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { crc32c } from "../../../dist/journal/internal/crc32c.js";
import { readU32 } from "../../../dist/journal/internal/format.js";

const home = process.argv[2];
const segments = [];
for (const pipeline of readdirSync(home, { withFileTypes: true })) {
  if (!pipeline.isDirectory()) continue;
  for (const run of readdirSync(join(home, pipeline.name), { withFileTypes: true })) {
    const dir = join(home, pipeline.name, run.name, "journal");
    if (!run.isDirectory()) continue;
    try {
      for (const f of readdirSync(dir).sort()) if (f.endsWith(".seg")) segments.push(join(dir, f));
    } catch {}
  }
}

/** Skips one MessagePack value at `p` in `b`; returns the position after it. */
function skip(b, p) {
  const t = b[p++];
  if (t < 0x80 || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return p;
  if (t < 0x90) {
    for (let i = (t & 0x0f) * 2; i > 0; i--) p = skip(b, p);
    return p;
  }
  if (t < 0xa0) {
    for (let i = t & 0x0f; i > 0; i--) p = skip(b, p);
    return p;
  }
  if (t < 0xc0) return p + (t & 0x1f);
  const be16 = () => (b[p] << 8) | b[p + 1];
  const be32 = () => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  switch (t) {
    case 0xcc:
    case 0xd0:
      return p + 1;
    case 0xcd:
    case 0xd1:
      return p + 2;
    case 0xca:
    case 0xce:
    case 0xd2:
      return p + 4;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return p + 8;
    case 0xd9:
    case 0xc4:
      return p + 1 + b[p];
    case 0xda:
    case 0xc5:
      return p + 2 + be16();
    case 0xdb:
    case 0xc6:
      return p + 4 + be32();
    case 0xdc:
    case 0xde: {
      let n = be16() * (t === 0xde ? 2 : 1);
      p += 2;
      for (; n > 0; n--) p = skip(b, p);
      return p;
    }
    case 0xdd:
    case 0xdf: {
      let n = be32() * (t === 0xdf ? 2 : 1);
      p += 4;
      for (; n > 0; n--) p = skip(b, p);
      return p;
    }
    case 0xd4:
      return p + 2;
    case 0xd5:
      return p + 3;
    case 0xd6:
      return p + 5;
    case 0xd7:
      return p + 9;
    case 0xd8:
      return p + 17;
    case 0xc7:
      return p + 2 + b[p];
    case 0xc8:
      return p + 3 + be16();
    case 0xc9:
      return p + 5 + be32();
    default:
      throw new Error(`not MessagePack: 0x${t.toString(16)}`);
  }
}

let events = 0;
if (!process.argv.includes("--none"))
  for (const file of segments) {
    const b = readFileSync(file);
    let p = 24;
    while (p + 12 <= b.length) {
      const len = readU32(b, p);
      if (len === 0 || crc32c(b, p, p + 8) !== readU32(b, p + 8)) break;
      const start = p + 12;
      const end = start + len;
      if (end > b.length || crc32c(b, start, end) !== readU32(b, p + 4)) break;
      if (skip(b, start) !== end)
        throw new Error(`${file}: a payload at ${start} does not end at its frame's end`);
      events++;
      p = end;
    }
  }
process.stdout.write(`${JSON.stringify({ segments: segments.length, events })}\n`);
