/** @module Moved to `events/histogram.ts` (the shape `stage.progress` carries); re-exported for the metrics layer. */
export * from "../events/histogram.ts";
