/**
 * @module Peers of the built-in scenarios live in the sluice repository's
 * `benchmarks/peers/` (they use libraries sluice does not depend on:
 * csv-parse, papaparse, piscina…). They are referred to by URL and loaded
 * only by `--peers`; an installed sluice without the repository reports them
 * as not available instead of failing.
 */
import { type LazyPeer, peerModule } from "../scenario.ts";

/** The repository root, from `src/bench/scenarios/` or `dist/bench/scenarios/`. */
export const repoRoot = new URL("../../../", import.meta.url);

/** A peer module under `benchmarks/peers/`, with the named export (default `default`). */
export function repoPeer<D>(file: string, exportName = "default"): LazyPeer<D> {
  return peerModule<D>(new URL(`benchmarks/peers/${file}`, repoRoot), exportName);
}
