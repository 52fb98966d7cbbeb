/**
 * @module What the runner prepares before measuring: the scenario's data
 * (generated once per scenario, row count and seed, and kept under
 * `<home>/bench/data/`), and where each peer is loaded from — on Node, a
 * repository peer is bundled to JavaScript once per bench run so no peer
 * pays for the tsx loader; a peer module that is not installed is reported.
 */

import type { RuntimeName } from "../../runtime/detect.ts";
import { fs, paths } from "../../runtime/fs.ts";
import type { LoadedScenario } from "../load.ts";
import type { ChildSpec } from "../protocol.ts";
import type { GenerateContext, LazyPeer, Peer, Scenario } from "../scenario.ts";
import { repoRoot } from "../scenarios/repo-peer.ts";
import { bundleForNode } from "./host.ts";
import { childScript } from "./measure.ts";

/** Generates (or finds) the scenario's data in `<home>/bench/data/<scenario>-<rows>-s<seed>/`. */
export async function generate(
  loaded: LoadedScenario,
  rows: number,
  seed: number,
  options: { home: string },
): Promise<unknown> {
  const s = loaded.scenario;
  const tag = loaded.source.kind === "file" ? `${s.name}-${shortHash(loaded.source.file)}` : s.name;
  const dir = paths.join(options.home, "bench", "data", `${tag}-${rows}-s${seed}`);
  await fs.mkdirp(dir);
  const ctx: GenerateContext = {
    rows,
    seed,
    scale: "rows",
    dir,
    async file(name, pieces) {
      const path = paths.join(dir, name);
      if (await fs.stat(path)) return path;
      const part = `${path}.part`;
      const w = await fs.openWriter(part);
      try {
        for await (const piece of pieces) await w.write(piece);
      } finally {
        await w.close();
      }
      await fs.rename(part, path);
      return path;
    },
  };
  return s.generate(ctx);
}

/** Where a measuring process imports a peer module from, per runtime (compiled for Node when possible). */
export async function peerRef(
  s: Scenario<unknown>,
  impl: string,
  runtime: RuntimeName,
  compiled: Map<string, string>,
): Promise<ChildSpec["peer"]> {
  const p = s.peers[impl];
  if (!p || typeof p === "function" || !p.href) return undefined;
  const exportName = p.exportName ?? "default";
  if (runtime !== "node" || childScript().endsWith(".ts") || !p.href.endsWith(".ts")) {
    return { href: p.href, exportName };
  }
  // A repository peer on Node, measured from the built CLI: bundle it to JavaScript once per bench run.
  const benchDir = new URL("benchmarks/", repoRoot).href;
  if (!p.href.startsWith(benchDir)) return { href: p.href, exportName };
  let href = compiled.get(p.href);
  if (href === undefined) {
    const name = paths.basename(paths.fromFileUrl(p.href)).replace(/\.ts$/, ".mjs");
    const out = paths.join(paths.fromFileUrl(benchDir), "data", "compiled-peers", name);
    href = (await bundleForNode(paths.fromFileUrl(p.href), out)) ? paths.toFileUrl(out) : p.href;
    compiled.set(p.href, href);
  }
  return { href, exportName };
}

/** A lazy peer whose module file is not there (an installed sluice has no benchmarks/peers). */
export async function peerMissing(peer: Peer<unknown> | LazyPeer<unknown>): Promise<string | undefined> {
  const href = typeof peer === "function" ? undefined : peer.href;
  if (!href?.startsWith("file:")) return undefined;
  const path = paths.fromFileUrl(href);
  return (await fs.stat(path)) ? undefined : `peer not installed (${path} is part of the sluice repository)`;
}

function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
