/** @module The alert rules' schema lives with the pipeline option it checks (`pipeline/alert-rules.ts`). */
export * from "../pipeline/alert-rules.ts";
