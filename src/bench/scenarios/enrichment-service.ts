/**
 * @module The enrichment workload shared by the `enrichment` scenario and its
 * peers: a simulated slow profile service (a real timer per call) with
 * deterministic injected failures — every tenth user fails on its first
 * call only (transient: a retry succeeds), about one user in a hundred always
 * fails (its events end in the dead letter after the retries) — and the
 * per-tier totals every implementation must agree on.
 */
import { z } from "zod";
import { prng } from "../../testing/generate.ts";
import type { GenerateContext, Outcome } from "../scenario.ts";
import { digestOf } from "../scenario.ts";

export const EventSchema = z.object({ id: z.coerce.number().int(), user: z.string().min(1) });
export type UserEvent = z.output<typeof EventSchema>;

export interface Profile {
  readonly user: string;
  readonly tier: "gold" | "silver" | "bronze";
  readonly score: number;
}

/** Retry policy every implementation uses: 3 attempts, 1 ms then 2 ms. */
export const ATTEMPTS = 3;
export const BACKOFF_MS = 1;
/** Calls in flight at once. */
export const CONCURRENCY = 32;
/** Service latency per call. */
export const LATENCY_MS = 2;

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Users whose every call fails. */
export function alwaysFails(user: string): boolean {
  return hash(user) % 97 === 3;
}

/** Users whose first call fails. */
export function failsOnce(user: string): boolean {
  return hash(user) % 10 === 1;
}

export class ServiceError extends Error {
  readonly _tag = "ServiceError";
}

/** The simulated service. One instance per measurement (it remembers first calls). */
export class SlowService {
  calls = 0;
  readonly #seen = new Set<string>();
  constructor(readonly latencyMs = LATENCY_MS) {}

  lookup(user: string): Promise<Profile> {
    this.calls++;
    const first = !this.#seen.has(user);
    this.#seen.add(user);
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (alwaysFails(user)) reject(new ServiceError(`profile service: no profile for ${user}`));
        else if (first && failsOnce(user)) reject(new ServiceError(`profile service: timeout for ${user}`));
        else {
          const h = hash(user);
          resolve({ user, tier: h % 7 === 0 ? "gold" : h % 3 === 0 ? "silver" : "bronze", score: h % 1000 });
        }
      }, this.latencyMs);
    });
  }
}

/** Per-tier totals: events and the sum of their users' scores. */
export class TierTotals {
  readonly #m = new Map<string, { n: number; score: number }>();
  add(p: Profile): void {
    const t = this.#m.get(p.tier);
    if (t) {
      t.n++;
      t.score += p.score;
    } else this.#m.set(p.tier, { n: 1, score: p.score });
  }
  get size(): number {
    return this.#m.size;
  }
  rows(): Array<{ key: string; n: number; score: number }> {
    return [...this.#m].map(([key, t]) => ({ key, n: t.n, score: t.score }));
  }
}

export function tierDigest(rows: Iterable<{ key: unknown; n: unknown; score: unknown }>): string {
  return digestOf(
    [...rows]
      .map((r) => ({ key: String(r.key), n: Number(r.n), score: Number(r.score) }))
      .sort((a, b) => (a.key < b.key ? -1 : 1)),
  );
}

export interface EventsData {
  readonly file: string;
  readonly rows: number;
  readonly users: number;
  /** Events whose user always fails: they must end in the dead letter. */
  readonly failing: number;
}

/** events.csv: `id,user`, users drawn from rows/5 distinct ones (an 80% cache hit rate at best). */
export async function generateEvents(ctx: GenerateContext): Promise<EventsData> {
  const users = Math.max(20, Math.floor(ctx.rows / 5));
  const rand = prng(ctx.seed);
  const picks = new Uint32Array(ctx.rows);
  let failing = 0;
  for (let i = 0; i < ctx.rows; i++) {
    picks[i] = Math.floor(rand() * users);
    if (alwaysFails(`u${picks[i]}`)) failing++;
  }
  function* text(): Generator<string> {
    let buf = "id,user\n";
    for (let i = 0; i < picks.length; i++) {
      buf += `${i + 1},u${picks[i]}\n`;
      if (buf.length > 1 << 16) {
        yield buf;
        buf = "";
      }
    }
    yield buf;
  }
  const file = await ctx.file("events.csv", text());
  return { file, rows: ctx.rows, users, failing };
}

export function checkEvents(o: Outcome, d: EventsData): string | undefined {
  if (o.rowsIn !== d.rows) return `read ${o.rowsIn} events, expected ${d.rows}`;
  if (o.deadLettered !== undefined && o.deadLettered !== d.failing) {
    return `dead-lettered ${o.deadLettered} events, expected ${d.failing} (those of always-failing users)`;
  }
  return undefined;
}
