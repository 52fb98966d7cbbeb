/**
 * @module A run's identity: where its state lives, its id, and the hash of
 * the pipeline's shape that a resume checks.
 */
import { type Clock, systemClock } from "../../runtime/clock.ts";
import { paths } from "../../runtime/fs.ts";
import { cwd, env } from "../../runtime/process.ts";
import { type Pipeline, stageNames } from "../pipeline.ts";

/** The state directory root: `SLUICE_HOME`, or `.sluice` in the working directory. */
export function stateHome(home?: string): string {
  // An empty value (`SLUICE_HOME=`) is unset, not the working directory.
  return paths.resolve(home || env("SLUICE_HOME") || paths.join(cwd(), ".sluice"));
}

/** A sortable, unique run id: `20261122T171500123Z-1a2b3c`. */
export function newRunId(clock: Clock = systemClock): string {
  const t = new Date(clock.now()).toISOString().replace(/[-:]/g, "").replace(".", "");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `${t}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A hash of the pipeline's shape, to detect an incompatible change before resuming. */
export function definitionHash(p: Pipeline<unknown>): string {
  const shape = [p.source.name, ...stageNames(p), p.sink?.name ?? ""].join("|");
  let h = 0x811c9dc5;
  for (let i = 0; i < shape.length; i++) h = Math.imul(h ^ shape.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
