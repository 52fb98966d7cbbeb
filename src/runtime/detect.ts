/**
 * @module The one place that decides which runtime we are on (as @most/core
 * does for its scheduler): everything else asks `runtimeName`.
 */

export type RuntimeName = "node" | "bun" | "deno";

interface Globals {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
  process?: { versions?: { node?: string } };
}

const g = globalThis as Globals;

/** The runtime this process is running on. */
export const runtimeName: RuntimeName = g.Bun ? "bun" : g.Deno ? "deno" : "node";

/** The runtime's own version (not the Node compatibility version). */
export const runtimeVersion: string =
  runtimeName === "bun"
    ? g.Bun!.version
    : runtimeName === "deno"
      ? g.Deno!.version.deno
      : (g.process?.versions?.node ?? "unknown");
