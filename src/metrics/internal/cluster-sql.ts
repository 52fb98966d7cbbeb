/**
 * @module The `cluster_worker_totals` view: the remote workers of distributed
 * parallelMaps (`cluster.worker` events, table `cluster_workers`) per run,
 * stage and worker. The events carry interval deltas, so totals are sums; a
 * worker's host, pid, runtime and state are those of its last event. The
 * busy share is busy time over the run's duration (the `runs` view's, which
 * grows while the run is live); it is above 1 when a worker ran tasks
 * concurrently. The run projection sums the same deltas the same way
 * (`events/internal/cluster-fold.ts`).
 */
export const CLUSTER_SQL = `
CREATE OR REPLACE VIEW cluster_worker_totals AS
SELECT w.pipeline, w.run_id, w.stage, w.worker_id, w.host, w.pid, w.runtime, w.state, w.events, w.tasks,
       w.records, w.failures, w.busy_ms, w.redelivered, w.first_at, w.last_at,
       w.busy_ms / nullif(r.duration_ms, 0) AS busy_share
FROM (
  SELECT any_value(pipeline) AS pipeline, run_id, stage, worker_id, arg_max(host, seq) AS host,
         arg_max(pid, seq) AS pid, arg_max(runtime, seq) AS runtime, arg_max(state, seq) AS state,
         count(*)::BIGINT AS events, sum(tasks)::BIGINT AS tasks, sum(records)::BIGINT AS records,
         sum(failures)::BIGINT AS failures, sum(busy_ms) AS busy_ms, sum(redelivered)::BIGINT AS redelivered,
         min(ts) AS first_at, max(ts) AS last_at
  FROM cluster_workers GROUP BY run_id, stage, worker_id
) w LEFT JOIN runs r USING (run_id);
`;
