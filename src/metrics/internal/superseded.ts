/**
 * @module Dead letters a resume superseded. A killed or stopped attempt goes
 * on lettering records after its last checkpoint's barrier, and its journal
 * keeps those letters; the resumed attempt reads those records again and
 * letters them again. The dead-letter file is cut back to the checkpoint
 * (`pipeline/internal/dead-letter.ts`), and the checkpoint holds each
 * stage's letters as many as the file then did (since the run began). So for
 * each attempt a resume followed, per stage, the letters it journaled beyond
 * what the resume's checkpoint holds more than the previous resume's are the
 * superseded ones, and are deleted from `dead_letters` here; an attempt
 * followed by a resume from the start keeps none. Then the store lists each
 * bad record once, as the file and `runs.dead_lettered` count it.
 *
 * A stage's letters are journaled in the order of its records (a chunk
 * stage's, the source's), so those deleted are exactly the letters of
 * records after the barrier. A `mapAsync`/`parallelMap` stage letters in the
 * order its calls end, and a side sink letters while its checkpoint commits:
 * there the count is exact and a letter near the barrier may be kept in place
 * of another. Letters naming a stage the checkpoint does not list, and resumes
 * from a checkpoint the store does not hold (a damaged journal), are left as
 * they are; so is a run where an attempt journaled fewer letters of a stage
 * than its checkpoint holds (its letters name stages other than those that
 * counted them, as a stage setting `stage` may): nothing is deleted that
 * might be a letter the file keeps. Idempotent: after it, each attempt keeps
 * exactly what its resume's checkpoint holds.
 */
import type { Connection } from "../../duckdb/client.ts";

/**
 * Deletes from `dead_letters` the letters of `runs` that a resume superseded;
 * returns how many.
 */
export async function dropSupersededLetters(conn: Connection, runs: readonly string[]): Promise<number> {
  if (runs.length === 0) return 0;
  // Most runs were never resumed: only those that were are looked at.
  const resumed = (
    await conn.all(
      "SELECT run_id FROM run_starts WHERE run_id IN (SELECT unnest($runs)) GROUP BY run_id HAVING count(*) > 1",
      { runs: [...runs] },
    )
  ).map((x) => String(x.run_id));
  if (resumed.length === 0) return 0;
  const [r] = await conn.all(
    `DELETE FROM dead_letters d USING (
       WITH starts AS (
         SELECT run_id, seq AS start_seq, coalesce(resumed_from, 0) AS cp_id,
           row_number() OVER (PARTITION BY run_id ORDER BY seq) AS attempt
         FROM run_starts WHERE run_id IN (SELECT unnest($runs))
       ),
       -- Each attempt a resume followed: its letters are [seg_from, seg_to), and the resume's checkpoint
       -- (the last with its id before the resume; none: resumed from the start) says how many stay.
       segs AS (
         SELECT a.run_id, a.attempt, a.start_seq AS seg_from, b.start_seq AS seg_to, b.cp_id,
           (SELECT c.stage_totals FROM checkpoints c
             WHERE c.run_id = b.run_id AND c.checkpoint_id = b.cp_id AND c.seq < b.start_seq
             ORDER BY c.seq DESC LIMIT 1) AS totals
         FROM starts a JOIN starts b ON a.run_id = b.run_id AND b.attempt = a.attempt + 1
       ),
       held AS (
         SELECT run_id, attempt, seg_from, seg_to, t.stage AS stage, t.deadLettered AS total
         FROM (SELECT *, unnest(from_json(totals, '[{"stage":"VARCHAR","deadLettered":"BIGINT"}]')) AS t
               FROM segs WHERE totals IS NOT NULL)
       ),
       -- A checkpoint counts each stage's letters since the run began: an attempt keeps what its
       -- resume's checkpoint holds beyond the one before (letters before it were settled then).
       keep AS (
         SELECT run_id, seg_from, seg_to, stage,
           total - coalesce(lag(total) OVER (PARTITION BY run_id, stage ORDER BY attempt), 0) AS n
         FROM held
       ),
       letters AS (SELECT run_id, seq, stage FROM dead_letters WHERE run_id IN (SELECT unnest($runs))),
       counted AS (
         SELECT k.run_id, k.seg_from, k.stage, k.n, count(l.seq) AS journaled
         FROM keep k LEFT JOIN letters l
           ON l.run_id = k.run_id AND l.stage = k.stage AND l.seq >= k.seg_from AND l.seq < k.seg_to
         GROUP BY ALL
       ),
       -- Every letter a checkpoint holds was journaled before it: fewer journaled than held means the
       -- letters do not name the stages that counted them (a stage lettering under another stage's
       -- name) or the journal lost some. Such a run is left as it is.
       unsure AS (SELECT DISTINCT run_id FROM counted WHERE journaled < n),
       doomed AS (
         SELECT l.run_id, l.seq
         FROM letters l JOIN keep k
           ON l.run_id = k.run_id AND l.stage = k.stage AND l.seq >= k.seg_from AND l.seq < k.seg_to
         WHERE l.run_id NOT IN (SELECT run_id FROM unsure)
         QUALIFY row_number() OVER (PARTITION BY k.run_id, k.seg_from, k.stage ORDER BY l.seq) > k.n
         UNION
         -- An attempt followed by a resume from the start: none of its letters stay.
         SELECT l.run_id, l.seq FROM letters l JOIN segs s
           ON l.run_id = s.run_id AND s.cp_id = 0 AND l.seq >= s.seg_from AND l.seq < s.seg_to
       )
       SELECT DISTINCT run_id, seq FROM doomed
     ) x
     WHERE d.run_id = x.run_id AND d.seq = x.seq`,
    { runs: resumed },
  );
  return Number(r?.Count ?? 0);
}
