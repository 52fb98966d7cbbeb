/**
 * @module The worker pool on real threads under vitest (Node): the same conformance checks that
 * `worker-pool-conformance.ts` runs directly on Node, Bun and Deno, so there is one source of truth.
 */
import { describe, test } from "vitest";
import { conformanceChecks, runtimeName } from "./worker-pool-conformance.ts";

describe("worker pool on real threads", () => {
  for (const check of conformanceChecks) {
    test.skipIf(Boolean(check.skip?.[runtimeName]))(check.name, () => check.run());
  }
});
