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
 * Reasons already normalised. Most dead letters of a run repeat a few reasons
 * word for word (a schema error, a ragged row), and a catch-up normalises
 * every one it stores: the three regular expressions were ~0.14 s of a
 * 100 000-dead-letter catch-up, a lookup is not. Bounded: cleared when full,
 * so reasons that quote a different value each time cost one insert each.
 */
const groups = new Map<string, string>();
const GROUPS_MAX = 4096;
/** Longer reasons (a thrown object's JSON) are normalised each time, so the memo stays small. */
const REASON_MAX = 512;

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
  let group = groups.get(reason);
  if (group === undefined) {
    group = reason.replace(QUOTED, '"…"').replace(HEX_ID, "<id>").replace(NUMBER, "<n>");
    if (reason.length <= REASON_MAX) {
      if (groups.size >= GROUPS_MAX) groups.clear();
      groups.set(reason, group);
    }
  }
  return group;
}
