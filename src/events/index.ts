export * from "./bus.ts";
export * from "./projection.ts";
export * from "./schema.ts";
