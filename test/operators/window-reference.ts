/**
 * An independent reference for the window operators: a plain loop over the
 * input that keeps every window as a list of its records and recomputes
 * each result from that list (no accumulators, no heap, no buckets), firing
 * by scanning every window after each record. Slow and obvious on purpose;
 * the operator must agree with it on every generated input.
 */
export interface Rec {
  readonly id: number;
  readonly k: string;
  readonly t: number;
  readonly v: number;
  readonly p?: number;
}

export type Kind =
  | { type: "tumbling"; size: number }
  | { type: "sliding"; size: number; every: number }
  | { type: "session"; gap: number };

export interface RefOptions {
  readonly kind: Kind;
  readonly bound: number;
  readonly lateness: number;
  readonly updates: boolean;
  readonly partitioned?: boolean;
}

export interface RefResult {
  key: string;
  start: number;
  end: number;
  n: number;
  sum: number;
  lo: number;
  hi: number;
  first: number;
  last: number;
  mean: number;
}

interface Win {
  k: string;
  start: number;
  end: number;
  recs: Array<{ r: Rec; arrival: number }>;
  fired: boolean;
  closed: boolean;
}

function result(w: Win): RefResult {
  const vs = w.recs.map((x) => x.r.v);
  const byTime = [...w.recs].sort((a, b) => a.r.t - b.r.t || a.arrival - b.arrival);
  const sum = vs.reduce((a, b) => a + b, 0);
  return {
    key: w.k,
    start: w.start,
    end: w.end,
    n: vs.length,
    sum,
    lo: Math.min(...vs),
    hi: Math.max(...vs),
    first: byTime[0].r.v,
    last: byTime[byTime.length - 1].r.v,
    mean: sum / vs.length,
  };
}

/** Runs the reference; returns the results emitted and the ids of records too late. */
export function reference(input: readonly Rec[], o: RefOptions): { out: RefResult[]; late: number[] } {
  const out: RefResult[] = [];
  const late: number[] = [];
  const wins: Win[] = [];
  let wm = Number.NEGATIVE_INFINITY;
  let maxSeen = Number.NEGATIVE_INFINITY;
  const partMax = new Map<number, number>();

  const fire = () => {
    const live = wins.filter((w) => !w.closed);
    for (const w of live) {
      if (!w.fired && w.end <= wm) {
        w.fired = true;
        if (o.updates) out.push(result(w));
      }
      if (w.end + o.lateness <= wm) {
        if (!o.updates) out.push(result(w));
        w.closed = true;
      }
    }
  };

  input.forEach((r, arrival) => {
    const kind = o.kind;
    if (kind.type === "session") {
      const meets = wins.filter((w) => !w.closed && w.k === r.k && w.start <= r.t + kind.gap && w.end >= r.t);
      if (meets.length === 0 && r.t + kind.gap + o.lateness <= wm) late.push(r.id);
      else {
        const recs = [...meets.flatMap((w) => w.recs), { r, arrival }];
        for (const w of meets) w.closed = true;
        const start = Math.min(...recs.map((x) => x.r.t));
        const end = Math.max(...recs.map((x) => x.r.t)) + kind.gap;
        const w: Win = { k: r.k, start, end, recs, fired: end <= wm, closed: false };
        wins.push(w);
        if (o.updates && w.fired) out.push(result(w));
      }
    } else {
      const size = kind.size;
      const every = kind.type === "sliding" ? kind.every : kind.size;
      let accepted = false;
      // Every window start s (a multiple of every) with s <= t < s + size.
      for (let s = Math.ceil((r.t - size + 1) / every) * every; s <= r.t; s += every) {
        if (s + size + o.lateness <= wm) continue;
        let w = wins.find((x) => !x.closed && x.k === r.k && x.start === s);
        if (!w) {
          w = { k: r.k, start: s, end: s + size, recs: [], fired: s + size <= wm, closed: false };
          wins.push(w);
        }
        w.recs.push({ r, arrival });
        accepted = true;
        if (o.updates && w.fired) out.push(result(w));
      }
      if (!accepted) late.push(r.id);
    }
    maxSeen = Math.max(maxSeen, r.t);
    let candidate = maxSeen - o.bound;
    if (o.partitioned) {
      partMax.set(r.p ?? 0, Math.max(partMax.get(r.p ?? 0) ?? Number.NEGATIVE_INFINITY, r.t));
      candidate = Math.min(...partMax.values()) - o.bound;
    }
    if (candidate > wm) {
      wm = candidate;
      fire();
    }
  });
  wm = Number.POSITIVE_INFINITY;
  fire();
  return { out, late };
}
