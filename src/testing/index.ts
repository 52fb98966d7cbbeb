/**
 * @module Test helpers (`sluice/testing`).
 */

export { ensureOrdersCsv, type OrdersOptions, ordersCsv, prng } from "./generate.ts";
export { VirtualClock } from "./virtual-clock.ts";
