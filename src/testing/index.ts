/**
 * @module Test helpers (`sluice/testing`).
 */
export { VirtualClock } from "./virtual-clock.ts";
