/**
 * @module The one bound on a dead letter's `raw` text, whatever sent it there. A record that is
 * not read can be huge (an unclosed quote swallows the rest of a file), and the dead letter is
 * written to the dead-letter file and to the journal; so `raw` keeps its first `RAW_MAX_BYTES`
 * bytes (whole characters) and ends with a marker saying how many bytes were cut.
 */

/** The most bytes of a record's text a dead letter keeps. */
export const RAW_MAX_BYTES = 16 * 1024;

/** The marker ending a cut `raw`: `…[52411392 bytes cut]`. */
export function rawCutMarker(bytesCut: number): string {
  return `…[${bytesCut} bytes cut]`;
}

/**
 * `raw` bounded to `max` bytes of UTF-8 plus the cut marker. `totalBytes` is the full record's
 * size when `raw` is already only its start (a source that never held the whole record).
 */
export function boundRaw(
  raw: string | undefined,
  totalBytes?: number,
  max: number = RAW_MAX_BYTES,
): string | undefined {
  if (raw === undefined || (totalBytes === undefined && raw.length * 3 <= max)) return raw;
  let kept = 0;
  let i = 0;
  for (; i < raw.length; i++) {
    const w = charBytes(raw, i);
    if (kept + w > max) break;
    kept += w;
    if (w === 4) i++;
  }
  let total = kept;
  for (let j = i; j < raw.length; j++) {
    const w = charBytes(raw, j);
    total += w;
    if (w === 4) j++;
  }
  total = Math.max(total, totalBytes ?? 0);
  return total > kept ? raw.slice(0, i) + rawCutMarker(total - kept) : raw;
}

/** UTF-8 bytes of the character at `s[i]` (4 for a surrogate pair, 3 for a lone surrogate). */
function charBytes(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) return 4;
  return 3;
}
