export * from "./bus.ts";
export * from "./schema.ts";
