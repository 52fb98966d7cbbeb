/**
 * @module The built-in scenarios, in the order `sluice bench` runs them.
 */
import type { Scenario } from "../scenario.ts";
import cpuParallel from "./cpu-parallel.ts";
import csvEtl from "./csv-etl.ts";
import engineOverhead from "./engine-overhead.ts";
import enrichment from "./enrichment.ts";
import journalHeavy from "./journal-heavy.ts";
import memoryBound from "./memory-bound.ts";
import metricsHeavy from "./metrics-heavy.ts";

/** Each scenario's data type matters only between its own generator, pipeline and peers. */
const erase = <D>(s: Scenario<D>): Scenario<unknown> => s as unknown as Scenario<unknown>;

export const builtinScenarios: readonly Scenario<unknown>[] = [
  erase(engineOverhead),
  erase(csvEtl),
  erase(enrichment),
  erase(cpuParallel),
  erase(journalHeavy),
  erase(metricsHeavy),
  erase(memoryBound),
];
