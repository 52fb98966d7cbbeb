// The plain-loop peer of the windows benchmark: what a user writes by hand for the same
// job — read the CSV line by line, parse ts/key/amount, keep a Map per open 1-minute window,
// a watermark (max ts − 30 s) and emit (here: count) each window at watermark ≥ end + 1 m.
// Run as `node loop.mjs FILE`; prints rows, records and the sum of amounts.
import { createReadStream } from "node:fs";
import process from "node:process";

const SIZE = 60_000;
const BOUND = 30_000;
const LATENESS = 60_000;
const open = new Map(); // window start → Map<key, [n, total]>
let maxSeen = -Infinity;
let next = Infinity; // the earliest window end + lateness
let rows = 0;
let records = 0;
let sum = 0;

function emit(start) {
  for (const acc of open.get(start).values()) {
    rows++;
    records += acc[0];
    sum += acc[1];
  }
  open.delete(start);
}

function record(line) {
  const a = line.indexOf(",");
  const b = line.indexOf(",", a + 1);
  const ts = Number(line.slice(0, a));
  const key = line.slice(a + 1, b);
  const amount = Number(line.slice(b + 1));
  const start = Math.floor(ts / SIZE) * SIZE;
  const wm = maxSeen - BOUND;
  if (start + SIZE + LATENESS <= wm) return; // too late (none in this data)
  let w = open.get(start);
  if (!w) {
    w = new Map();
    open.set(start, w);
    if (start + SIZE + LATENESS < next) next = start + SIZE + LATENESS;
  }
  const acc = w.get(key);
  if (acc) {
    acc[0]++;
    acc[1] += amount;
  } else w.set(key, [1, amount]);
  if (ts > maxSeen) {
    maxSeen = ts;
    if (maxSeen - BOUND >= next) {
      next = Infinity;
      for (const s of [...open.keys()].sort((x, y) => x - y)) {
        if (s + SIZE + LATENESS <= maxSeen - BOUND) emit(s);
        else if (s + SIZE + LATENESS < next) next = s + SIZE + LATENESS;
      }
    }
  }
}

let rest = "";
let header = true;
for await (const piece of createReadStream(process.argv[2], { encoding: "latin1", highWaterMark: 1 << 16 })) {
  const text = rest + piece;
  let from = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
    if (header) header = false;
    else record(text.slice(from, nl));
    from = nl + 1;
  }
  rest = text.slice(from);
}
if (rest) record(rest);
for (const s of [...open.keys()].sort((x, y) => x - y)) emit(s);
process.stdout.write(`${JSON.stringify({ rows, records, sum })}\n`);
