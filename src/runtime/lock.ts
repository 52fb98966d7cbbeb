/**
 * @module Lock files that keep two processes from writing one run directory.
 * Node, Bun and Deno have no `flock`, so a lock is a small JSON file naming
 * its holder (pid, host, process start time), created atomically by writing
 * a private temp file and hard-linking it into place (the link fails if the
 * lock exists, and a lock is never seen half-written). A lock whose holder
 * has died (kill -9, a second Ctrl-C) is stale and is taken over; liveness is
 * `kill(pid, 0)` plus, on Linux, the process start time from `/proc`, so a pid
 * reused by another process (common in containers) does not keep a dead
 * run's lock alive. Locks on another host cannot be checked and count as held.
 *
 * It lives in `src/runtime/` because it needs the process table.
 */
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import process from "node:process";

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Linux `/proc/<pid>/stat` start time (clock ticks since boot), when known. */
  readonly startTime?: string;
  /** Wall-clock ms when it was taken. */
  readonly since: number;
  readonly token: string;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/** What is at a lock path: nothing, a live holder, or the lock of a process that is gone. */
export type LockState =
  | { readonly state: "free" }
  | { readonly state: "held"; readonly holder: LockHolder; readonly mine: boolean }
  | { readonly state: "stale"; readonly holder?: LockHolder };

/** Locks held by this process (a lock file naming our pid that is not here is a dead namesake's). */
const heldHere = new Map<string, string>();

async function readStartTime(pid: number): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime); the command name (field 2) may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] || undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.token === "string") {
      return h as LockHolder;
    }
  } catch {
    // Not ours or damaged: treated as stale by the caller.
  }
  return { pid: -1, host: "", since: 0, token: "" };
}

async function alive(h: LockHolder, path: string): Promise<boolean> {
  if (h.pid <= 0) return false;
  if (h.host !== hostname()) return true;
  if (h.pid === process.pid) return heldHere.get(path) === h.token;
  if (!isRunning(h.pid)) return false;
  if (h.startTime === undefined) return true;
  const now = await readStartTime(h.pid);
  return now === undefined || now === h.startTime;
}

/** Inspects a lock without taking it. */
export async function inspectLock(path: string): Promise<LockState> {
  const holder = await readHolder(path);
  if (!holder) return { state: "free" };
  if (await alive(holder, path)) {
    return { state: "held", holder, mine: heldHere.get(path) === holder.token };
  }
  return { state: "stale", holder: holder.pid > 0 ? holder : undefined };
}

/**
 * Takes the lock at `path`, replacing a stale one. Returns the live holder
 * instead when another process (or another run in this one) has it.
 */
export async function tryLock(
  path: string,
  now: number,
): Promise<{ ok: true; lock: HeldLock } | { ok: false; holder: LockHolder }> {
  const token = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startTime: await readStartTime(process.pid),
    since: now,
    token,
  };
  const temp = `${path}.${token}.tmp`;
  await writeFile(temp, JSON.stringify(holder), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, path);
        heldHere.set(path, token);
        return { ok: true, lock: makeLock(path, holder) };
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST") throw e;
      }
      const current = await readHolder(path);
      if (!current) continue;
      if (await alive(current, path)) return { ok: false, holder: current };
      // Stale: move it aside (only one taker's rename succeeds), then check we
      // did not move a lock a concurrent taker had just created.
      const aside = `${path}.${token}.stale`;
      try {
        await rename(path, aside);
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") continue;
        throw e;
      }
      const moved = await readHolder(aside);
      if (moved && moved.token !== current.token && (await alive(moved, path))) {
        await link(aside, path).catch(() => {});
        await rm(aside, { force: true });
        return { ok: false, holder: moved };
      }
      await rm(aside, { force: true });
    }
    const last = await readHolder(path);
    return { ok: false, holder: last ?? holder };
  } finally {
    await rm(temp, { force: true });
  }
}

function makeLock(path: string, holder: LockHolder): HeldLock {
  let released = false;
  return {
    path,
    holder,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      const current = await readHolder(path).catch(() => undefined);
      if (current?.token === holder.token) await rm(path, { force: true });
    },
  };
}
