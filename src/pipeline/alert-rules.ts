/**
 * @module Alert rule configuration: the zod schema a pipeline's `alerts`
 * option (and `PUT /api/rules`) is validated with, the defaults, and their
 * merge. Kept apart from the engine so the schema is also the documentation
 * and the HTTP layer can import it without the evaluation code. It lives in
 * the pipeline layer because a pipeline's `alerts` option is checked with it
 * when the pipeline is defined; the metrics layer evaluates the rules.
 */
import { z } from "zod";
import { MetricsConfigError } from "./errors.ts";
import { toMillis } from "./units.ts";

/** Resource samples taken this soon after a run starts are warm-up, not growth. */
export const MEMORY_WARMUP_MS = 30_000;
/** The settled samples must span at least this long before a slope is a growth rate. */
export const MEMORY_MIN_WINDOW_MS = 60_000;

/** How much of a run the live figures the rules read look back over. */
export interface ProjectionWindows {
  /** `stage.progress` intervals per stage (default 10). */
  readonly intervals: number;
  /** Span of `run.progress` samples throughput is measured over (default 10 000 ms). */
  readonly throughputMs: number;
  /** `resource.sample`s kept for the memory slope (default 120: two minutes at one a second). */
  readonly resourceSamples: number;
  /** Per-second throughput readings kept as the run's own reference (default 300). */
  readonly referenceSamples: number;
}

/** `"30s"`, `"2m"` or milliseconds. */
const Duration = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d)\s*$/, 'expected a duration such as "30s" or "2m"'),
]);

const Rule = z
  .object({
    enabled: z.boolean(),
    warning: z.number().finite(),
    critical: z.number().finite(),
    /** Consecutive evaluations past a threshold before raising or escalating. */
    for: z.number().int().min(1),
    /** Resolve below warning × (1 − hysteresis). */
    hysteresis: z.number().min(0).max(1),
    /** Consecutive evaluations below the resolve level before resolving. */
    clearFor: z.number().int().min(1),
    /** Stage rules only: evaluate just these stages (default all). */
    stages: z.array(z.string()).optional(),
  })
  .strict();

export type AlertRule = z.infer<typeof Rule>;

/** The rules and what each measures. */
export const RULES = {
  /** Drop of source throughput below the reference, as a fraction (0.5 = half). */
  throughputDrop: "throughput drop",
  /** A stage's p99 chunk latency over the last intervals, in ms. */
  p99LatencyMs: "p99 latency",
  /** A stage's errors per input row over the last intervals. */
  errorRate: "error rate",
  /** A stage's dead-lettered rows per input row over the last intervals. */
  deadLetterRate: "dead-letter rate",
  /** Least-squares RSS slope over the last samples after warm-up, bytes per minute (a leak). */
  memoryGrowthBytesPerMin: "memory growth",
  /** Event-loop delay p99 of the last sample, ms. */
  eventLoopDelayMs: "event-loop delay",
  /** Work queued before a stage (pool queue or stage queue). */
  queueDepth: "queue depth",
  /**
   * Letters of a (stage, normalised reason) no earlier run of the pipeline dead-lettered
   * (runs of a pipeline with no history are not evaluated). Warning at the first.
   */
  newDeadLetterReason: "new dead-letter reason",
} as const;

export type RuleName = keyof typeof RULES;

export const MiB = 1024 * 1024;

export const DEFAULT_RULES: Readonly<Record<RuleName, AlertRule>> = {
  throughputDrop: { enabled: true, warning: 0.5, critical: 0.8, for: 5, hysteresis: 0.2, clearFor: 5 },
  p99LatencyMs: { enabled: true, warning: 1000, critical: 5000, for: 2, hysteresis: 0.1, clearFor: 2 },
  errorRate: { enabled: true, warning: 0.01, critical: 0.05, for: 2, hysteresis: 0.1, clearFor: 2 },
  deadLetterRate: { enabled: true, warning: 0.01, critical: 0.05, for: 2, hysteresis: 0.1, clearFor: 2 },
  memoryGrowthBytesPerMin: {
    enabled: true,
    warning: 64 * MiB,
    critical: 256 * MiB,
    for: 10,
    hysteresis: 0.25,
    clearFor: 10,
  },
  eventLoopDelayMs: { enabled: true, warning: 100, critical: 500, for: 3, hysteresis: 0.2, clearFor: 3 },
  queueDepth: { enabled: true, warning: 1000, critical: 10_000, for: 3, hysteresis: 0.2, clearFor: 3 },
  newDeadLetterReason: { enabled: true, warning: 1, critical: 1000, for: 1, hysteresis: 0, clearFor: 1 },
};

/** Per-pipeline alert configuration: every field optional, merged over the defaults. */
export const AlertConfigSchema = z
  .object({
    enabled: z.boolean().optional(),
    rules: z
      .object(
        Object.fromEntries(Object.keys(RULES).map((k) => [k, Rule.partial().optional()])) as Record<
          RuleName,
          z.ZodOptional<ReturnType<typeof Rule.partial>>
        >,
      )
      .strict()
      .optional(),
    /** Throughput reference in rows/s (e.g. the pipeline's baseline); default: the run's own median so far. */
    baselineRowsPerS: z.number().positive().optional(),
    /** Seconds of throughput readings before the drop rule evaluates (default 10). */
    warmupReadings: z.number().int().min(1).optional(),
    /** Resource samples (after warm-up) before the memory rule evaluates (default 10). */
    minMemorySamples: z.number().int().min(3).optional(),
    /** Time after the run starts whose resource samples the memory rule ignores (default "30s"). */
    memoryWarmup: Duration.optional(),
    /** Least span of the samples after warm-up before the memory rule evaluates (default "1m"). */
    memoryWindow: Duration.optional(),
    windows: z
      .object({
        intervals: z.number().int().min(1),
        throughputMs: z.number().positive(),
        resourceSamples: z.number().int().min(3),
        referenceSamples: z.number().int().min(1),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type AlertConfigInput = z.input<typeof AlertConfigSchema>;

export interface AlertConfig {
  readonly enabled: boolean;
  readonly rules: Readonly<Record<RuleName, AlertRule>>;
  readonly baselineRowsPerS: number | undefined;
  readonly warmupReadings: number;
  readonly minMemorySamples: number;
  readonly memoryWarmupMs: number;
  readonly memoryWindowMs: number;
  readonly windows: Partial<ProjectionWindows>;
}

/** Validates a pipeline's alert configuration and merges it over the defaults. */
export function resolveAlertConfig(input: unknown = {}): AlertConfig {
  const parsed = AlertConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MetricsConfigError(`alerts.${issue.path.join(".")}`, issue.message);
  }
  const c = parsed.data;
  const rules = {} as Record<RuleName, AlertRule>;
  for (const name of Object.keys(RULES) as RuleName[]) {
    // Keys given as `undefined` keep the default (a spread would copy the undefined).
    const given = Object.entries(c.rules?.[name] ?? {}).filter(([, v]) => v !== undefined);
    const r = { ...DEFAULT_RULES[name], ...Object.fromEntries(given) } as AlertRule;
    if (r.critical < r.warning) {
      throw new MetricsConfigError(
        `alerts.rules.${name}`,
        `critical (${r.critical}) must be ≥ warning (${r.warning})`,
      );
    }
    rules[name] = r;
  }
  return {
    enabled: c.enabled ?? true,
    rules,
    baselineRowsPerS: c.baselineRowsPerS,
    warmupReadings: c.warmupReadings ?? 10,
    minMemorySamples: c.minMemorySamples ?? 10,
    memoryWarmupMs: c.memoryWarmup === undefined ? MEMORY_WARMUP_MS : toMillis(c.memoryWarmup),
    memoryWindowMs: c.memoryWindow === undefined ? MEMORY_MIN_WINDOW_MS : toMillis(c.memoryWindow),
    windows: c.windows ?? {},
  };
}
