/**
 * @module A store's subscription to a bus (`MetricsStore.attach`): every
 * durable event into the writer's buffer, and, with `alerts`, the alert
 * engine on the same bus with each run's baseline throughput looked up once
 * per run, off the hot path.
 */
import type { EventBus, Subscription } from "../../events/bus.ts";
import type { SluiceEvent } from "../../events/schema.ts";
import { type AlertEngineOptions, type AlertsHandle, attachAlerts } from "../alerts.ts";
import type { Baseline, BaselineQuery } from "../baselines.ts";

export interface AttachOptions {
  /**
   * Evaluate alert rules on the bus and publish `alert.raised`/`alert.resolved`
   * on it: `true` evaluates each run with its pipeline's own rules (the
   * `alerts` option its `run.started` carries), else the defaults; a
   * configuration for all pipelines, or per pipeline (a function), wins over
   * those. Off by default.
   */
  readonly alerts?: AlertEngineOptions["config"] | true;
  /**
   * Events the bus delivered before the store was attached (a subscriber
   * that buffered them while the store opened): taken first, in order, as if
   * they had arrived live.
   */
  readonly backlog?: readonly SluiceEvent[];
}

/** What the subscription needs of its store. */
export interface AttachTarget {
  /** Buffers one event; false when skipped. */
  add(e: SluiceEvent): boolean;
  /** After events were buffered: flush soon if enough are. */
  added(): void;
  baselines(query: BaselineQuery): Promise<Baseline | null>;
}

export function attachStore(
  target: AttachTarget,
  bus: EventBus,
  options: AttachOptions,
): { subscription: Subscription; alerts: AlertsHandle | undefined } {
  const alerts =
    options.alerts === undefined
      ? undefined
      : attachAlerts(bus, options.alerts === true ? undefined : options.alerts, options.backlog);
  // Deviation from baseline: each run's throughput is compared with the median of
  // its pipeline's comparable past runs (looked up once per run, off the hot path).
  const onStarted = (e: SluiceEvent) => {
    if (e.kind !== "run.started" || !alerts) return;
    target
      .baselines({
        pipeline: e.pipeline,
        runtime: e.runtime,
        host: e.host,
        definitionHash: e.definitionHash,
        excludeRunId: e.runId,
      })
      .then(
        (b) => alerts.engine.setBaseline(e.runId, b?.metrics.rows_per_s?.median),
        () => {},
      );
  };
  for (const e of options.backlog ?? []) {
    target.add(e);
    onStarted(e);
  }
  if (options.backlog?.length) target.added();
  const sub = bus.subscribe((e) => {
    if (target.add(e)) target.added();
  });
  const started = alerts ? bus.subscribe(onStarted, ["run.started"]) : undefined;
  const subscription: Subscription = {
    unsubscribe: () => {
      sub.unsubscribe();
      started?.unsubscribe();
      alerts?.unsubscribe();
    },
  };
  return { subscription, alerts };
}
