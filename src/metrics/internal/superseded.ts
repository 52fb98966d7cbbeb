/**
 * @module Dead letters a resume superseded. A killed or stopped attempt goes
 * on lettering records after its last checkpoint's barrier, and its journal
 * keeps those letters; the resumed attempt reads those records again and
 * letters them again. The dead-letter file is cut back to the checkpoint
 * (`pipeline/internal/dead-letter.ts`), and the checkpoint holds each
 * stage's letters as many as the file then did; so, per stage, the letters
 * journaled before a resume beyond the first that many are the superseded
 * ones, and are deleted from `dead_letters` here. Then the store lists each
 * bad record once, as the file and `runs.dead_lettered` count it.
 *
 * A stage's letters are journaled in the order of its records (a chunk
 * stage's, the source's), so those deleted are exactly the letters of
 * records after the barrier. A `mapAsync`/`parallelMap` stage letters in the
 * order its calls end, and a side sink letters while its checkpoint commits:
 * there the count is exact and a letter near the barrier may be kept in place
 * of another. Letters naming a stage the checkpoint does not list, and resumes
 * from a checkpoint the store does not hold (a damaged journal), are left as
 * they are. Idempotent: after it, the letters before each resume are exactly
 * those its checkpoint holds.
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
       WITH resumes AS (
         SELECT run_id, seq AS start_seq, coalesce(resumed_from, 0) AS cp_id
         FROM (
           SELECT run_id, seq, resumed_from, row_number() OVER (PARTITION BY run_id ORDER BY seq) AS attempt
           FROM run_starts WHERE run_id IN (SELECT unnest($runs))
         ) WHERE attempt > 1
       ),
       -- Each resume's checkpoint: the last with its id before the resume (none: resumed from the start).
       held AS (
         SELECT r.run_id, r.start_seq, r.cp_id,
           (SELECT c.stage_totals FROM checkpoints c
             WHERE c.run_id = r.run_id AND c.checkpoint_id = r.cp_id AND c.seq < r.start_seq
             ORDER BY c.seq DESC LIMIT 1) AS totals
         FROM resumes r
       ),
       -- Per resume and stage, how many of the stage's letters before it the checkpoint holds.
       keep AS (
         SELECT run_id, start_seq, t.stage AS stage, t.deadLettered AS n
         FROM (SELECT run_id, start_seq, unnest(from_json(totals, '[{"stage":"VARCHAR","deadLettered":"BIGINT"}]')) AS t
               FROM held WHERE totals IS NOT NULL)
       ),
       -- A resume from the start (an empty checkpoint) keeps none of the letters before it.
       keep_none AS (SELECT run_id, start_seq FROM held WHERE cp_id = 0),
       letters AS (
         SELECT run_id, seq, stage FROM dead_letters WHERE run_id IN (SELECT unnest($runs))
       ),
       doomed AS (
         SELECT l.run_id, l.seq
         FROM letters l JOIN keep k ON l.run_id = k.run_id AND l.seq < k.start_seq AND l.stage = k.stage
         QUALIFY row_number() OVER (PARTITION BY k.run_id, k.start_seq, k.stage ORDER BY l.seq) > k.n
         UNION
         SELECT l.run_id, l.seq FROM letters l JOIN keep_none k ON l.run_id = k.run_id AND l.seq < k.start_seq
       )
       SELECT DISTINCT run_id, seq FROM doomed
     ) x
     WHERE d.run_id = x.run_id AND d.seq = x.seq`,
    { runs: resumed },
  );
  return Number(r?.Count ?? 0);
}
