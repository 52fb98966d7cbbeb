/**
 * @module The fields every event carries (stamped by the bus), shared by `schema.ts` and the
 * event groups kept in their own modules.
 */
import { z } from "zod";

export const base = {
  /** Wall-clock ms since epoch. */
  ts: z.number(),
  runId: z.string(),
  pipeline: z.string(),
};
