/**
 * @module One dead-letter reason for many records: `normaliseReason` turns the
 * values a reason quotes (numbers, quoted text, ids) into placeholders, so the
 * same schema error on different rows, or the same throw for different ids, is
 * one group in `sluice dlq`, the HTTP API and the metrics store's
 * `dead_letters` view. Stage names (`2:map`) are kept.
 */

const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const HEX_ID = /\b(?=[0-9a-f-]*\d)[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b/gi;
// A number, but not a stage index such as the 2 of "2:map".
const NUMBER = /(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.]|:\w)/gi;

/**
 * The reason with its varying values replaced: quoted text by `"…"`, long hex
 * ids by `<id>`, numbers by `<n>`.
 *
 * @example
 * ```ts
 * normaliseReason("2:map threw: no price for order 1234"); // "2:map threw: no price for order <n>"
 * ```
 */
export function normaliseReason(reason: string): string {
  return reason.replace(QUOTED, '"…"').replace(HEX_ID, "<id>").replace(NUMBER, "<n>");
}
