/**
 * @module Which worker entry a peer pool uses: Node 20 needs a JS shim that registers tsx inside
 * the worker thread (tsx does not hook workers from `execArgv`); Bun and Deno load TypeScript.
 */
import { runtimeName } from "../../src/runtime/detect.ts";

export function peerWorkerUrl(name: string): URL {
  return new URL(`./pool-workers/${name}${runtimeName === "node" ? ".node.mjs" : ".ts"}`, import.meta.url);
}
